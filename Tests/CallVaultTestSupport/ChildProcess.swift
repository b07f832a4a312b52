public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process for tests (the `callvault` binary, `unzip`, `sox`): its stdout and stderr are read
/// while it runs, and every wait on it has a deadline.
///
/// Reading both pipes as the child writes means a child that writes more than a pipe buffer (64 KiB)
/// never blocks on a full pipe while the test waits for it to exit. A child that misses a deadline is
/// killed, and the error says what it was waiting for and ends with the child's last output, so the
/// test fails with the reason instead of hanging the whole run.
public final class ChildProcess: @unchecked Sendable {
    /// How a child ended and everything it wrote.
    public struct Output: Sendable {
        /// The exit status, or the signal number when ``signalled``.
        public let status: Int32
        /// Whether an uncaught signal (`kill -9`) ended it.
        public let signalled: Bool
        public let stdout: String
        public let stderr: String

        /// stdout parsed as one JSON object.
        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw ChildProcessError("stdout is not one JSON object: \(stdout.prefix(200))")
            }
            return object
        }
    }

    /// The command line, for messages.
    public let command: String
    public let processIdentifier: Int32
    private let process: Process
    private let streams: ChildStreams

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: variables set on top of this process's environment.
    ///   - currentDirectory: the child's working directory (default: the tests').
    public init(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String] = [:],
        currentDirectory: String? = nil
    ) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let streams = ChildStreams()
        process.terminationHandler = { process in
            streams.exited(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal)
        }
        try process.run()
        // The child has its own copies of the write ends; the test's would keep the pipes open (no end of
        // file) and, over a full run of thousands of children, exhaust descriptors: Foundation's
        // `Process.run` crashed in CI once the test process held over a thousand.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        self.process = process
        self.streams = streams
        processIdentifier = process.processIdentifier
        command = ([executable.lastPathComponent] + arguments).joined(separator: " ")
        streams.watchExit(of: processIdentifier)
        streams.drain(out.fileHandleForReading, stdout: true)
        streams.drain(err.fileHandleForReading, stdout: false)
    }

    /// Kills a child the test left running (a failed `#require` before its stop).
    deinit {
        if isRunning { kill(processIdentifier, SIGKILL) }
    }

    /// Runs a command to completion.
    /// - Parameter timeout: how long it may run; past it, it is killed and this throws with its output.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String] = [:],
        currentDirectory: String? = nil,
        timeout: Duration = .seconds(300)
    ) throws -> Output {
        try ChildProcess(executable, arguments, environment: environment, currentDirectory: currentDirectory)
            .waitForExit(timeout: timeout)
    }

    public var isRunning: Bool { streams.locked { $0.exit == nil } }

    /// What it wrote to stdout so far.
    public var stdout: String { streams.locked { String(decoding: $0.stdout, as: UTF8.self) } }

    /// What it wrote to stderr so far.
    public var stderr: String { streams.locked { String(decoding: $0.stderr, as: UTF8.self) } }

    /// The complete lines it wrote to stdout so far.
    public var stdoutLines: [String] { streams.locked { Self.lines($0.stdout) } }

    /// Waits until the lines written to stdout satisfy `condition`; returns them.
    ///
    /// Throws, with the child's output, if it exits first or `timeout` passes (it is left running then).
    @discardableResult
    public func waitForStdout(
        _ what: String,
        timeout: Duration = .seconds(30),
        until condition: ([String]) -> Bool
    ) throws -> [String] {
        var lines: [String] = []
        let met = streams.wait(timeout: timeout) { state in
            lines = Self.lines(state.stdout)
            return condition(lines) || state.exit != nil
        }
        if condition(lines) { return lines }
        let why =
            met ? "exited (status \(streams.locked { $0.exit?.status ?? 0 }))" : "did not print it within \(timeout)"
        throw ChildProcessError("`\(command)` \(why) while the test waited for \(what)" + tails())
    }

    /// Waits for the first stdout line that satisfies `condition`.
    public func waitForLine(
        _ what: String,
        timeout: Duration = .seconds(30),
        where condition: (String) -> Bool
    ) throws -> String {
        try waitForStdout(what, timeout: timeout) { $0.contains(where: condition) }.first(where: condition)!
    }

    /// Sends `signal` (`SIGTERM`, `SIGKILL`) to the child.
    public func send(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// Waits until it exits and its output is read.
    ///
    /// Past `timeout` the child is killed and this throws with the end of its output.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60)) throws -> Output {
        guard streams.wait(timeout: timeout, until: { $0.exit != nil }) else {
            kill(processIdentifier, SIGKILL)
            _ = streams.wait(timeout: .seconds(5)) { $0.exit != nil }
            throw ChildProcessError("`\(command)` did not exit within \(timeout) and was killed" + tails())
        }
        // The pipes close when the child exits, unless a grandchild holds them: do not wait on that for long.
        _ = streams.wait(timeout: .seconds(5)) { $0.openStreams == 0 }
        return streams.locked { state in
            Output(
                status: state.exit?.status ?? -1,
                signalled: state.exit?.signalled ?? false,
                stdout: String(decoding: state.stdout, as: UTF8.self),
                stderr: String(decoding: state.stderr, as: UTF8.self)
            )
        }
    }

    /// Sends `signal` and waits for the child to exit.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) throws -> Output {
        send(signal)
        return try waitForExit(timeout: timeout)
    }

    /// The last lines of stderr and stdout, for an error message.
    private func tails() -> String {
        let (stderr, stdout) = streams.locked { ($0.stderr, $0.stdout) }
        return "\n--- stderr ends:\n" + Self.tail(stderr) + "\n--- stdout ends:\n" + Self.tail(stdout)
    }

    private static func tail(_ data: Data) -> String {
        String(decoding: data.suffix(2_000), as: UTF8.self).split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    private static func lines(_ data: Data) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return Array(lines.dropLast())  // the text after the last newline is not a line yet
    }
}

/// A child process that failed or missed a deadline, with its last output.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// What the reader threads and the exit watchers share with the waiting test, under one condition.
///
/// The exit is watched with `waitid(WNOWAIT)` as well as Foundation's termination handler: on Linux,
/// Foundation learns of an exit only when every process that inherited the child's descriptors closed
/// them, and a grandchild (`sh -c` running a command) or a sibling started at the same moment may hold
/// them for long. For the same reason the pipes are read until they are empty once the child exited,
/// not until their end of file.
private final class ChildStreams: @unchecked Sendable {
    struct State {
        var stdout = Data()
        var stderr = Data()
        var openStreams = 2
        var exit: (status: Int32, signalled: Bool)?
    }

    private let condition = NSCondition()
    private var state = State()

    func locked<T>(_ body: (State) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(state)
    }

    private func update(_ body: (inout State) -> Void) {
        condition.lock()
        body(&state)
        condition.broadcast()
        condition.unlock()
    }

    /// Records the exit (the first report of it counts: both watchers see the same one).
    func exited(status: Int32, signalled: Bool) {
        update { state in
            if state.exit == nil { state.exit = (status, signalled) }
        }
    }

    /// Waits for the exit of `pid` on a thread of its own, without reaping it (Foundation does).
    func watchExit(of pid: pid_t) {
        let thread = Thread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
                if errno != EINTR { return }  // reaped already: the termination handler reports it
            }
            #if canImport(Glibc)
                let status = info._sifields._sigchld.si_status
            #else
                let status = info.si_status
            #endif
            self.exited(status: status, signalled: info.si_code != CLD_EXITED)
        }
        thread.start()
    }

    /// Reads `handle` on a thread of its own, appending to stdout's or stderr's bytes, until its end of
    /// file or until it is empty after the child exited.
    func drain(_ handle: FileHandle, stdout: Bool) {
        let fd = handle.fileDescriptor
        let thread = Thread { [handle] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                // What the child wrote before it exited is in the pipe before its exit is known.
                let exitedBefore = self.locked { $0.exit != nil }
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let polled = poll(&ready, 1, 50)
                if polled < 0 && errno == EINTR { continue }
                if polled == 0 {
                    if exitedBefore { break }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let bytes = buffer[0..<count]
                    self.update { state in
                        if stdout {
                            state.stdout.append(contentsOf: bytes)
                        } else {
                            state.stderr.append(contentsOf: bytes)
                        }
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            // Closed here, not when the last reference to the handle goes (the `Process` keeps its pipes).
            try? handle.close()
            self.update { $0.openStreams -= 1 }
        }
        thread.start()
    }

    /// Waits until `predicate` holds, up to `timeout`; returns whether it held.
    func wait(timeout: Duration, until predicate: (State) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(state) {
            if !condition.wait(until: deadline) { return predicate(state) }
        }
        return true
    }
}

extension Duration {
    /// In seconds, for Foundation's and POSIX's time intervals.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
