public import CallVaultArchive
import Dispatch
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Speech to text by any program: `--command 'PROG {input}'` runs PROG on a WAV of the audio and
/// reads the transcript from its stdout.
///
/// The escape hatch for engines CallVault has no client for (whisper.cpp's CLI, a vendor tool, a
/// script): stdout that parses as a JSON object may be `verbose_json` or `{"segments":[{"start","end","text"}]}`;
/// anything else is plain text, one segment spanning the audio.
/// The WAV lives in a private directory (mkdtemp, 0700; the file 0600) that is deleted afterwards,
/// errors included, so plaintext audio is on disk only while the program runs. The program runs in
/// its own process group, killed whole on timeout. Errors name the program and exit status, never
/// its output (which is transcript text). One engine per worker thread.
public final class CommandTranscriptionEngine: TranscriptionEngine {
    public let name = "command"

    public struct Configuration: Sendable, Equatable {
        /// argv; `{input}` in any argument is replaced by the WAV's path (appended as the last
        /// argument if no argument has it).
        public var arguments: [String]
        /// Seconds the program may run before its process group is killed.
        public var timeout: TimeInterval

        public init(arguments: [String], timeout: TimeInterval = 300) {
            self.arguments = arguments
            self.timeout = timeout
        }

        /// From a command line as typed after `--command`: split at whitespace, with '…' and "…" quoting.
        public init(commandLine: String, timeout: TimeInterval = 300) throws(TranscriptionError) {
            self.init(arguments: try CommandTranscriptionEngine.split(commandLine), timeout: timeout)
        }
    }

    public static let inputPlaceholder = "{input}"
    /// Replaced by the path of a file holding the tenant's vocabulary, one phrase per line (empty for none),
    /// in the same private directory as the audio.
    public static let vocabularyPlaceholder = "{vocabulary}"
    public let configuration: Configuration

    public init(configuration: Configuration) throws(TranscriptionError) {
        guard let program = configuration.arguments.first, !program.isEmpty else {
            throw TranscriptionError(.unavailable, "command: no program configured")
        }
        self.configuration = configuration
    }

    /// Splits a command line into argv: whitespace separates, single quotes keep everything
    /// literally, double quotes keep whitespace (a backslash escapes `"` and `\` inside them and
    /// any character outside quotes).
    public static func split(_ commandLine: String) throws(TranscriptionError) -> [String] {
        var arguments: [String] = []
        var current = ""
        var inArgument = false
        var quote: Character?
        var escaped = false
        for character in commandLine {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case ("'", "'"), ("\"", "\""): quote = nil
            case ("'", _): current.append(character)
            case ("\"", "\\"): escaped = true
            case ("\"", _): current.append(character)
            case (nil, "'"), (nil, "\""):
                quote = character
                inArgument = true
            case (nil, "\\"):
                escaped = true
                inArgument = true
            case (nil, _) where character.isWhitespace:
                if inArgument { arguments.append(current) }
                current = ""
                inArgument = false
            default:
                current.append(character)
                inArgument = true
            }
        }
        guard quote == nil, !escaped else { throw TranscriptionError(.rejected, "command: unbalanced quote in the command line") }
        if inArgument { arguments.append(current) }
        guard !arguments.isEmpty else { throw TranscriptionError(.rejected, "command: the command line is empty") }
        return arguments
    }

    public func transcribe(_ samples: [Int16], options: TranscriptionOptions = TranscriptionOptions())
        throws(TranscriptionError) -> [TranscriptSegment]
    {
        let program = configuration.arguments[0]
        guard let executable = Self.resolve(program) else {
            throw TranscriptionError(.unavailable, "command: program \(program) not found or not executable")
        }
        let directory = try Self.makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/audio.wav"
        try Self.writePrivateFile(input, InMemoryWAV.encode(samples))

        let vocabulary = directory + "/vocabulary.txt"
        if configuration.arguments.contains(where: { $0.contains(Self.vocabularyPlaceholder) }) {
            try Self.writePrivateFile(vocabulary, Data(options.vocabulary.map { $0 + "\n" }.joined().utf8))
        }
        var arguments = configuration.arguments.dropFirst().map {
            $0.replacingOccurrences(of: Self.inputPlaceholder, with: input)
                .replacingOccurrences(of: Self.vocabularyPlaceholder, with: vocabulary)
        }
        if !configuration.arguments.dropFirst().contains(where: { $0.contains(Self.inputPlaceholder) }) { arguments.append(input) }

        let stdout = try run(executable: executable, arguments: arguments, program: program)
        let durationMs = InMemoryWAV.durationMs(samples)
        if VerboseJSONTranscript.isJSONObject(stdout) {
            return try VerboseJSONTranscript.segments(from: stdout, audioDurationMs: durationMs, engine: "command \(program)")
        }
        guard let text = String(data: stdout, encoding: .utf8) else {
            throw TranscriptionError(.badResponse, "command: \(program) printed \(stdout.count) bytes that are not UTF-8")
        }
        let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.isEmpty ? [] : [TranscriptSegment(startMs: 0, endMs: durationMs, text: collapsed, words: [])]
    }

    // MARK: - Running the program

    private func run(executable: String, arguments: [String], program: String) throws(TranscriptionError) -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice  // may hold transcript text; not kept
        let pipe = Pipe()
        process.standardOutput = pipe
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }

        do {
            try process.run()
        } catch {
            throw TranscriptionError(.unavailable, "command: cannot start \(program)")
        }
        let pid = process.processIdentifier
        // Read stdout on its own thread so a chatty program never blocks on a full pipe.
        let output = OutputBox()
        let drained = DispatchSemaphore(value: 0)
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread {
            let data = reader.readDataToEndOfFile()
            output.data.withLock { $0 = data }
            drained.signal()
        }

        if exited.wait(timeout: .now() + configuration.timeout) == .timedOut {
            Self.killGroup(pid)
            _ = exited.wait(timeout: .now() + 5)
            // A grandchild outside the group may hold stdout open: stop waiting for it (the reader
            // thread ends when it does).
            _ = drained.wait(timeout: .now() + 2)
            throw TranscriptionError(
                .timedOut, "command: \(program) did not finish within \(Int(configuration.timeout.rounded())) s and was killed")
        }
        if drained.wait(timeout: .now() + 5) == .timedOut {
            Self.killGroup(pid)
            throw TranscriptionError(.engineFailed, "command: \(program) exited but something it started kept its stdout open")
        }
        switch process.terminationReason {
        case .uncaughtSignal:
            throw TranscriptionError(.engineFailed, "command: \(program) was killed by signal \(process.terminationStatus)")
        case .exit where process.terminationStatus != 0:
            throw TranscriptionError(.engineFailed, "command: \(program) exited with status \(process.terminationStatus)")
        default:
            return output.data.withLock { $0 }
        }
    }

    /// Where the reader thread leaves stdout.
    private final class OutputBox: Sendable {
        let data = Mutex(Data())
    }

    /// SIGKILL to the program's process group when it leads one (Foundation on Linux starts
    /// children in their own group), else to the program alone.
    private static func killGroup(_ pid: Int32) {
        guard pid > 0 else { return }
        if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
    }

    /// `program` itself when it has a slash, else the first executable match on `PATH`.
    static func resolve(_ program: String) -> String? {
        let manager = FileManager.default
        if program.contains("/") { return manager.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            var isDirectory: ObjCBool = false
            if manager.isExecutableFile(atPath: candidate), manager.fileExists(atPath: candidate, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                return candidate
            }
        }
        return nil
    }

    // MARK: - The private WAV

    /// A fresh directory only this user can enter (mkdtemp creates it 0700).
    private static func makePrivateDirectory() throws(TranscriptionError) -> String {
        var base = NSTemporaryDirectory()
        while base.hasSuffix("/") && base.count > 1 { base.removeLast() }
        var template = Array((base + "/callvault-command-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw TranscriptionError(.engineFailed, "command: cannot create a private temporary directory in \(base) (errno \(errno))")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Writes `data` to a new file readable only by this user (0600, never following a link).
    private static func writePrivateFile(_ path: String, _ data: Data) throws(TranscriptionError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TranscriptionError(.engineFailed, "command: cannot create the input WAV (errno \(errno))") }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        guard ok else { throw TranscriptionError(.engineFailed, "command: cannot write the input WAV (errno \(errno))") }
    }
}
