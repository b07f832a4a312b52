/// Why a transcription failed, in words a user can act on (never containing audio or transcript text).
public struct TranscriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The model files are missing or unreadable.
        case modelMissing
        /// The engine refused the audio or failed inside.
        case engineFailed
        /// The audio cannot be brought to the engine's rate.
        case unsupportedAudio
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
