/// An error from the catalog: what was wrong, in words an operator can act on.
///
/// Messages name ids, limits and files, never tokens, phone numbers or key bytes.
public struct CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The catalog file could not be opened, created or migrated.
        case unavailable
        /// A tenant, call or recording with that id does not exist (or belongs to another tenant).
        case notFound
        /// A name or external id is already taken.
        case duplicate
        /// A policy value is outside what CallVault allows (for example voice retention over 90 days).
        case invalidPolicy
        /// An argument is malformed (an empty name, a bad digit, a negative length).
        case invalidArgument
        /// The database refused the operation (constraint, I/O, corruption).
        case databaseFailure
        /// A cryptographic primitive failed (random bytes, hashing).
        case cryptoFailure
        /// The recording is restricted (GDPR Art. 18) and no ``RestrictionOverride`` was given.
        case restricted
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
