import CallVaultModel

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

    /// A TOTP secret is 160 bits (nil: none).
    static func check(totpSecret: [UInt8]?) throws(CatalogError) {
        guard totpSecret.map({ $0.count == 20 }) ?? true else {
            throw CatalogError(.invalidArgument, "a TOTP secret is 20 bytes")
        }
    }

    /// Enabling needs an operator without a second factor (enrolling again would silently break the
    /// authenticator it has); disabling needs one with it.
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
