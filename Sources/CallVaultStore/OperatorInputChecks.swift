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

    /// The audit details of a new operator: its roles as `tenant=role` pairs, nothing secret.
    static func auditDetails(globalAdmin: Bool, roles: [String: OperatorRole]) -> [String: String] {
        var details = ["globalAdmin": globalAdmin ? "true" : "false"]
        if !roles.isEmpty {
            details["roles"] = roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
        }
        return details
    }
}
