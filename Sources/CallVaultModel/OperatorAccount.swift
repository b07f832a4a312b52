public import Foundation

/// A person who signs in to the web console: a name, a role per tenant, or global administration.
///
/// Carries no password hash, so it can be printed and encoded; the hash stays in the store and is
/// only handed out by ``OperatorCredentials``.
public struct OperatorAccount: Sendable, Codable, Equatable, Identifiable {
    public var id: String { name }
    public let name: String
    /// Administrator of every tenant (and of operators).
    public let globalAdmin: Bool
    /// The operator's role in each tenant it may see, by tenant id.
    public let roles: [String: OperatorRole]
    public let createdAt: Date

    public init(name: String, globalAdmin: Bool, roles: [String: OperatorRole], createdAt: Date) {
        self.name = name
        self.globalAdmin = globalAdmin
        self.roles = roles
        self.createdAt = createdAt
    }

    /// The operator's role in `tenantID`, or nil when it may not see that tenant at all.
    public func role(in tenantID: String) -> OperatorRole? {
        globalAdmin ? .admin : roles[tenantID]
    }

    /// Whether a name is acceptable: 1 to 64 of letters, digits, `.`, `_`, `-`, `@`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (CharacterSet.alphanumerics.contains(scalar) || ".-_@".unicodeScalars.contains(scalar))
            }
    }
}

/// An operator with the stored form of its password hash, for sign-in only.
public struct OperatorCredentials: Sendable {
    public let account: OperatorAccount
    /// `scrypt$N$r$p$SALT$HASH` (``PasswordHash`` in CallVaultCrypto).
    public let passwordHash: String

    public init(account: OperatorAccount, passwordHash: String) {
        self.account = account
        self.passwordHash = passwordHash
    }
}
