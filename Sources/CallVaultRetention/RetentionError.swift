/// Why a retention operation (sweep, hold) failed, with a message a user can act on.
///
/// Messages name recordings, tenants and files by id or path; never key bytes, phone numbers or audio.
public struct RetentionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The catalog could not be read or written.
        case catalogFailed
        /// The key store could not be read or written.
        case keyStoreFailed
        /// A sealed file could not be deleted.
        case fileDeletionFailed
        /// The request does not fit the recording's state (already shredded, not held, ...).
        case invalidState
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
