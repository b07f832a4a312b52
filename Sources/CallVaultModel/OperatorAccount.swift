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
    /// Whether sign-in asks for a TOTP code too (the secret is only in ``OperatorCredentials``).
    public let totp: Bool

    public init(name: String, globalAdmin: Bool, roles: [String: OperatorRole], createdAt: Date, totp: Bool = false) {
        self.name = name
        self.globalAdmin = globalAdmin
        self.roles = roles
        self.createdAt = createdAt
        self.totp = totp
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

/// An operator with the stored form of its password hash and its TOTP second factor, for sign-in only.
public struct OperatorCredentials: Sendable {
    public let account: OperatorAccount
    /// `scrypt$N$r$p$SALT$HASH` (``PasswordHash`` in CallVaultCrypto).
    public let passwordHash: String
    /// The operator's TOTP second factor, when it has one.
    public let totp: OperatorTOTP?

    public init(account: OperatorAccount, passwordHash: String, totp: OperatorTOTP? = nil) {
        self.account = account
        self.passwordHash = passwordHash
        self.totp = totp
    }
}

/// An operator's TOTP second factor as stored: the secret (key material: never logged, printed after
/// enrolment, or put in an error or audit entry) and the last step a code was accepted for, so that a
/// code is accepted once.
public struct OperatorTOTP: Sendable, CustomStringConvertible {
    /// The secret as the catalog keeps it.
    public enum Secret: Sendable, Equatable {
        /// Sealed under the key store's root key, bound to the operator's name (`KeyStore.sealOperatorSecret`):
        /// the catalog alone cannot compute codes. How `operator totp enable` stores it.
        case sealed([UInt8])
        /// The 20 bytes themselves: enrolled by a build before sealing (`operator totp seal` seals them).
        case plain([UInt8])
    }

    public let secret: Secret
    /// The RFC 6238 step of the last code accepted; nil before the first.
    public let lastStep: Int64?

    public init(secret: Secret, lastStep: Int64?) {
        self.secret = secret
        self.lastStep = lastStep
    }

    /// Never the secret.
    public var description: String { "OperatorTOTP(lastStep: \(lastStep.map(String.init) ?? "none"))" }
}
