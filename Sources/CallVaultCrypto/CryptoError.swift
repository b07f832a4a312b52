/// An error from a cryptographic primitive: what failed, in words a user can act on.
///
/// Messages never contain key bytes, plaintext or tags; at most lengths, versions and OpenSSL's own
/// reason strings (which carry no data either).
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// A GCM tag did not verify: the data, its associated data, nonce or key is not what was sealed.
        case authenticationFailed
        /// A file's key commitment does not match the key offered: wrong data key, or a forged header.
        case keyCommitmentMismatch
        /// A key of the wrong length was given (AES-256 needs 32 bytes).
        case invalidKeyLength
        /// A nonce of the wrong length was given (only 12-byte GCM nonces are used).
        case invalidNonceLength
        /// A tag buffer of the wrong length was given (tags are 16 bytes).
        case invalidTagLength
        /// A requested output length is outside what the function can produce.
        case invalidOutputLength
        /// An input (message, associated data, context field) is too large.
        case inputTooLarge
        /// OpenSSL reported an internal failure; the message carries its reason string.
        case openssl
        /// The random generator failed; nothing secret may be produced from it.
        case randomFailure
        /// Locked key memory could not be allocated.
        case allocationFailed
        /// A wrapped key did not unwrap: wrong key-encryption key, wrong context, damaged or unknown version.
        case unwrapFailed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
