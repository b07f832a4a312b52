import CallVaultArchive
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One faster-whisper child process speaking the framed protocol of `docs/whisper-sidecar.md` over
/// its stdin and stdout: each frame a u32 big-endian length and its bytes. Audio crosses the pipe
/// only; nothing is written to a file.
///
/// Every read and write has a deadline. A sidecar that dies, misses a deadline or answers garbage
/// is killed, and this object is finished: the engine starts a new one for the next job.
final class WhisperSidecar {
    /// The protocol version this side speaks.
    static let protocolVersion = 1
    /// Replies larger than this are garbage, not transcripts (a 1 h call is well under 5 MB of JSON).
    static let maximumReplyByteCount = 64 * 1024 * 1024

    private let process: Process
    private let stdin: Pipe
    private let stdout: Pipe
    private let input: Int32
    private let output: Int32
    private(set) var isAlive = true

    /// The child's process id (tests kill it to prove a dead sidecar loses nothing).
    var pid: Int32 { process.processIdentifier }

    /// Starts the sidecar and waits for its ready frame.
    init(installation: WhisperInstallation, threads: Int, startTimeout: Duration) throws(TranscriptionError) {
        signal(SIGPIPE, SIG_IGN)  // a dead sidecar must give EPIPE, not kill the worker
        let process = Process()
        process.executableURL = URL(fileURLWithPath: installation.python)
        process.arguments = [installation.sidecar, "--model", installation.model, "--threads", String(threads)]
        var environment = ProcessInfo.processInfo.environment
        environment["HF_HUB_OFFLINE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        // Its stderr carries one line per job (ids and timings, never text); shown only when asked for.
        if environment["CALLVAULT_WHISPER_DEBUG"] == nil { process.standardError = FileHandle.nullDevice }
        do { try process.run() } catch {
            throw TranscriptionError(.unavailable, "cannot start the Whisper sidecar with \(installation.python): \(error)")
        }
        self.process = process
        self.stdin = stdin
        self.stdout = stdout
        self.input = stdin.fileHandleForWriting.fileDescriptor
        self.output = stdout.fileHandleForReading.fileDescriptor
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        let ready: [String: Any]
        do throws(TranscriptionError) {
            ready = try readJSON(deadline: ContinuousClock.now + startTimeout, what: "its ready message")
        } catch {
            stop()
            throw error
        }
        guard ready["protocol"] as? Int == Self.protocolVersion, ready["ready"] as? Bool == true else {
            stop()
            let reason = (ready["error"] as? String).map { String($0.prefix(300)) } ?? "no ready message"
            throw TranscriptionError(.modelMissing, "the Whisper sidecar could not load the model: \(reason)")
        }
    }

    deinit { stop() }

    /// Sends one request and returns the reply object; on any failure the sidecar is killed.
    func request(header: [String: Any], audio: [Int16], timeout: Duration) throws(TranscriptionError) -> [String: Any] {
        guard isAlive else { throw TranscriptionError(.engineFailed, "the Whisper sidecar is not running") }
        let deadline = ContinuousClock.now + timeout
        do throws(TranscriptionError) {
            guard let headerBytes = try? JSONSerialization.data(withJSONObject: header) else {
                throw TranscriptionError(.engineFailed, "cannot encode a sidecar request")
            }
            try writeFrame([UInt8](headerBytes), deadline: deadline)
            // PCM16 little-endian: this machine's order (x86-64 and arm64 are little-endian).
            try Self.withBytes(of: audio) { (pcm) throws(TranscriptionError) in try writeFrame(pcm, deadline: deadline) }
            return try readJSON(deadline: deadline, what: "a reply")
        } catch {
            stop()
            throw error
        }
    }

    /// Kills the child (if running) and reaps it.
    func stop() {
        guard isAlive else { return }
        isAlive = false
        // Through the handles, which then own no descriptor: closing the raw fds would let the pipes
        // close them again later, possibly after the numbers were reused.
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? stdout.fileHandleForReading.close()
    }

    // MARK: Framing

    /// `body` over an array's bytes, keeping the typed error (the standard library's form is untyped).
    private static func withBytes<Element>(
        of array: [Element], _ body: (UnsafeRawBufferPointer) throws(TranscriptionError) -> Void
    ) throws(TranscriptionError) {
        let result: Result<Void, TranscriptionError> = array.withUnsafeBytes { buffer in
            Result { () throws(TranscriptionError) in try body(buffer) }
        }
        try result.get()
    }

    private func writeFrame(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(TranscriptionError) {
        try Self.withBytes(of: bytes) { (buffer) throws(TranscriptionError) in try writeFrame(buffer, deadline: deadline) }
    }

    private func writeFrame(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(TranscriptionError) {
        let length = UInt32(bytes.count)
        let prefix: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        try Self.withBytes(of: prefix) { (buffer) throws(TranscriptionError) in try writeAll(buffer, deadline: deadline) }
        try writeAll(bytes, deadline: deadline)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(TranscriptionError) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), on: input, until: deadline, doing: "sending audio")
            let written = write(input, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw died(doing: "sending audio")
            }
            offset += written
        }
    }

    private func readJSON(deadline: ContinuousClock.Instant, what: String) throws(TranscriptionError) -> [String: Any] {
        var prefix = [UInt8](repeating: 0, count: 4)
        try readExactly(&prefix, deadline: deadline, what: what)
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard length > 0, length <= Self.maximumReplyByteCount else {
            throw TranscriptionError(.badResponse, "the Whisper sidecar sent a frame of \(length) bytes as \(what)")
        }
        var body = [UInt8](repeating: 0, count: length)
        try readExactly(&body, deadline: deadline, what: what)
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw TranscriptionError(.badResponse, "the Whisper sidecar sent something that is not JSON as \(what)")
        }
        return object
    }

    private func readExactly(_ buffer: inout [UInt8], deadline: ContinuousClock.Instant, what: String)
        throws(TranscriptionError)
    {
        var offset = 0
        let count = buffer.count
        while offset < count {
            try wait(for: Int16(POLLIN), on: output, until: deadline, doing: "waiting for \(what)")
            let got = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress! + offset, count - offset) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw died(doing: "waiting for \(what)") }
            offset += got
        }
    }

    private func wait(for events: Int16, on fd: Int32, until deadline: ContinuousClock.Instant, doing: String)
        throws(TranscriptionError)
    {
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw TranscriptionError(.timedOut, "the Whisper sidecar did not answer in time (\(doing)); it was restarted")
            }
            let ms = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, min(ms, 1000))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw died(doing: doing) }
        }
    }

    private func died(doing: String) -> TranscriptionError {
        stop()
        let status = process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
        return TranscriptionError(.engineFailed, "the Whisper sidecar died (\(status)) while \(doing)")
    }
}
