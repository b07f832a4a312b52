/// A key provider failed: what went wrong, where, and what to do, in words an operator can act on.
///
/// Messages name the provider's location and the key, never a PIN, a token or key bytes.
public struct KeyProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The provider cannot be reached or loaded (module missing, server down, timeout).
        case unavailable
        /// The provider refused our credentials (wrong PIN, expired or revoked token).
        case authenticationFailed
        /// The configuration is incomplete or invalid (no token with that label, a bad URL).
        case misconfigured
        /// No key with that name: destroyed, never created, or revoked by its owner.
        case keyNotFound
        /// A key with that name exists already.
        case keyExists
        /// The wrapped bytes or their context do not authenticate under that key.
        case unwrapFailed
        /// The provider answered something that is not a valid answer.
        case invalidResponse
        /// The provider refused the operation for another reason (a policy, a missing permission).
        case refused
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
