/// Why a transcription failed, in words a user can act on (never containing audio or transcript text).
public struct TranscriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The model files are missing, unreadable or fail their checksum.
        case modelMissing
        /// The engine refused the audio or failed inside.
        case engineFailed
        /// The engine (a sidecar, a server, a program) did not answer in time.
        case timedOut
        /// The engine answered something that is not a transcript.
        case badResponse
        /// The engine cannot be reached or started (connection refused, program missing).
        case unavailable
        /// The engine refused the request itself (an HTTP 4xx): retrying will not help.
        case rejected
        /// The audio cannot be brought to the engine's rate.
        case unsupportedAudio
        /// A sealed recording does not authenticate or decode (changed bytes, a torn file).
        case corruptRecording
        /// The recording or transcript was shredded or erased: it can never be read again.
        case shredded
        /// The recording is restricted (GDPR Art. 18): kept, but not processed.
        case restricted
        /// No such transcript, call or recording.
        case notFound
        /// The catalog, key store or a sealed file failed.
        case storeFailed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the job must never run (its data is gone or off limits): the queue cancels it instead
    /// of retrying or dead-lettering it.
    public var cancelsJob: Bool { code == .shredded || code == .restricted || code == .notFound }

    /// Whether a later attempt may succeed (the queue retries these with backoff; the others go
    /// straight to `dead` with their error, for an operator to look at).
    public var isRetryable: Bool {
        switch code {
        case .engineFailed, .timedOut, .badResponse, .unavailable, .storeFailed, .modelMissing, .corruptRecording: true
        case .rejected, .unsupportedAudio, .shredded, .restricted, .notFound: false
        }
    }

    public var description: String { message }
}
