import CallVaultModel
import Foundation

/// The checks both backends make before they store an operator, so that they refuse the same input
/// with the same words.
enum OperatorInputChecks {
    static func check(name: String, passwordHash: String, globalAdmin: Bool, roles: [String: OperatorRole])
        throws(CatalogError)
    {
        guard OperatorAccount.isValidName(name) else {
            throw CatalogError(
                .invalidArgument, "an operator name has 1 to 64 of the characters A-Z a-z 0-9 . _ - @")
        }
        guard passwordHash.hasPrefix("scrypt$"), passwordHash.utf8.count <= 512 else {
            throw CatalogError(.invalidArgument, "an operator's password must be stored as an scrypt hash")
        }
        guard globalAdmin || !roles.isEmpty else {
            throw CatalogError(.invalidArgument, "an operator needs a role in at least one tenant, or global administration")
        }
    }

    /// A TOTP secret is 160 bits; sealed, those and the key wrap's overhead (nil: none).
    static func check(totpSecret: OperatorTOTP.Secret?) throws(CatalogError) {
        switch totpSecret {
        case .plain(let bytes)? where bytes.count != 20:
            throw CatalogError(.invalidArgument, "a TOTP secret is 20 bytes")
        case .sealed(let bytes)? where bytes.count != sealedTOTPByteCount:
            throw CatalogError(.invalidArgument, "a sealed TOTP secret is \(sealedTOTPByteCount) bytes")
        default: return
        }
    }

    /// 20 bytes sealed: a version byte, a 12-byte nonce, the 20 bytes and a 16-byte tag (`KeyWrap`).
    static let sealedTOTPByteCount = 49

    /// The columns of a stored secret: (plain, sealed), one of them nil (both for none).
    static func columns(_ secret: OperatorTOTP.Secret?) -> (plain: Data?, sealed: Data?) {
        switch secret {
        case .plain(let bytes)?: (Data(bytes), nil)
        case .sealed(let bytes)?: (nil, Data(bytes))
        case nil: (nil, nil)
        }
    }

    /// The secret of a row's columns, nil when it has none.
    static func secret(plain: Data?, sealed: Data?) -> OperatorTOTP.Secret? {
        if let sealed { return .sealed(Array(sealed)) }
        return plain.map { .plain(Array($0)) }
    }

    static func checkTOTPChange(name: String, has: Bool, enabling: Bool) throws(CatalogError) {
        if enabling, has {
            throw CatalogError(.duplicate, "operator \(name) already has TOTP: disable it first to enrol a new authenticator")
        }
        if !enabling, !has { throw CatalogError(.notFound, "operator \(name) has no TOTP") }
    }

    /// The audit details of a new operator: its roles as `tenant=role` pairs, nothing secret.
    static func auditDetails(globalAdmin: Bool, roles: [String: OperatorRole]) -> [String: String] {
        var details = ["globalAdmin": globalAdmin ? "true" : "false"]
        if !roles.isEmpty {
            details["roles"] = roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
        }
        return details
    }
}
