/// Why a retention operation (sweep, hold, data-subject request) failed, with a message a user can act on.
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
        /// An argument is malformed (a phone number with letters, an empty override reason, ...).
        case invalidArgument
        /// Nothing matches the request (for example, no call of the caller whose number was given).
        case notFound
        /// The output file exists and overwriting it was not asked for.
        case outputExists
        /// The output file could not be written (I/O, permissions, or beyond the 4 GiB a ZIP without ZIP64 holds).
        case outputFailed
        /// The operation stopped before it finished (its task was cancelled: the sweeper lost its lease, or
        /// was told to quit); what it did stays done and the next run finishes the rest.
        case interrupted
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
