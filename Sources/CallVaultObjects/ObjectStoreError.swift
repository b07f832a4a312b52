/// An object store failed: what went wrong, with which object and store, and what to do about it.
///
/// Messages name the store's location (`s3://BUCKET/PREFIX`, a directory) and the object key; never an
/// access key, a secret, a session token or object bytes. S3's own error code (`NoSuchKey`,
/// `SignatureDoesNotMatch`, …) is kept in ``serverCode`` for programs and quoted in the message with
/// S3's own message, which carries none of those either.
public struct ObjectStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// No object (or multipart upload) by that key or id.
        case notFound
        /// The key is not one an object may have (empty, too long, `..`, a control character).
        case invalidKey
        /// A byte range that does not lie inside the object.
        case invalidRange
        /// Another argument is not valid (a part number, an empty part list, a part too small).
        case invalidArgument
        /// The store refused our credentials or their permissions (wrong secret, unknown key id,
        /// expired session token, a policy that does not allow the action).
        case accessDenied
        /// The store is set up wrong for this use (no such bucket, another region, bad endpoint,
        /// credentials missing or unreadable).
        case misconfigured
        /// The store could not be reached, timed out or answered with a server error (5xx, `SlowDown`);
        /// retrying later may succeed.
        case unavailable
        /// The store's answer is not one the protocol allows (unparseable XML, a missing header).
        case invalidResponse
        /// The local file system failed (disk full, permission denied).
        case io
    }

    public let code: Code
    public let message: String
    /// The store's own error code, when it sent one (S3: the `<Code>` of its XML error).
    public let serverCode: String?

    public init(_ code: Code, _ message: String, serverCode: String? = nil) {
        self.code = code
        self.message = message
        self.serverCode = serverCode
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
