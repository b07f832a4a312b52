/// An error from the audio core: what was wrong, in words a user can act on.
///
/// Messages never contain audio samples; a file error names the file and what was wrong with it.
public struct AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        case unsupportedSampleRate
        case wrongFrameLength
        case invalidOpusPacket
        case codecFailure
        case fileUnreadable
        case fileCorrupt
        case fileWriteFailed
        case unsupportedFormat
        case poolExhausted
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
