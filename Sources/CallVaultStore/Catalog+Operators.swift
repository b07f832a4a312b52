public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    public func addOperator(
        name: String, passwordHash: String, globalAdmin: Bool, roles: [String: OperatorRole], actor: String, at: Date
    ) throws(CatalogError) -> OperatorAccount {
        try OperatorInputChecks.check(name: name, passwordHash: passwordHash, globalAdmin: globalAdmin, roles: roles)
        let at = at.catalogPrecision
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT count(*) FROM operators WHERE name = ?", arguments: [name]) ?? 0 > 0 {
                throw CatalogError(.duplicate, "an operator named \(name) already exists")
            }
            for tenantID in roles.keys
            where try Int.fetchOne(db, sql: "SELECT count(*) FROM tenants WHERE id = ?", arguments: [tenantID]) ?? 0 == 0 {
                throw CatalogError(.notFound, "no tenant with id \(tenantID)")
            }
            try db.execute(
                sql: "INSERT INTO operators (name, password_hash, global_admin, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, passwordHash, globalAdmin, at])
            for (tenantID, role) in roles {
                try db.execute(
                    sql: "INSERT INTO operator_roles (operator_name, tenant_id, role) VALUES (?, ?, ?)",
                    arguments: [name, tenantID, role.rawValue])
            }
            try AuditLog.append(
                in: db, actor: actor, action: .operatorAdded, tenantID: roles.count == 1 ? roles.keys.first : nil,
                subjectID: name, details: OperatorInputChecks.auditDetails(globalAdmin: globalAdmin, roles: roles), at: at)
        }
        return OperatorAccount(name: name, globalAdmin: globalAdmin, roles: roles, createdAt: at)
    }

    public func operatorCredentials(name: String) throws(CatalogError) -> OperatorCredentials? {
        guard OperatorAccount.isValidName(name) else { return nil }
        return try read { db -> OperatorCredentials? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM operators WHERE name = ?", arguments: [name]) else {
                return nil
            }
            let roles = try Self.operatorRoles(db, names: [name])[name] ?? [:]
            let secret = OperatorInputChecks.secret(plain: row["totp_secret"], sealed: row["totp_sealed"])
            return OperatorCredentials(
                account: OperatorAccount(
                    name: row["name"], globalAdmin: row["global_admin"], roles: roles, createdAt: row["created_at"],
                    totp: secret != nil),
                passwordHash: row["password_hash"],
                totp: secret.map { OperatorTOTP(secret: $0, lastStep: row["totp_last_step"]) })
        }
    }

    public func operators() throws(CatalogError) -> [OperatorAccount] {
        try read { db in
            let rows = try Row.fetchAll(
                db, sql: """
                    SELECT name, global_admin, created_at, (totp_secret IS NOT NULL OR totp_sealed IS NOT NULL) AS totp
                    FROM operators ORDER BY name
                    """)
            let roles = try Self.operatorRoles(db, names: nil)
            return rows.map { row in
                let name: String = row["name"]
                return OperatorAccount(
                    name: name, globalAdmin: row["global_admin"], roles: roles[name] ?? [:], createdAt: row["created_at"],
                    totp: row["totp"])
            }
        }
    }

    public func removeOperator(name: String, actor: String, at: Date) throws(CatalogError) {
        try write { db in
            try db.execute(sql: "DELETE FROM operator_roles WHERE operator_name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM operators WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { throw CatalogError(.notFound, "no operator named \(name)") }
            try AuditLog.append(in: db, actor: actor, action: .operatorRemoved, subjectID: name, at: at.catalogPrecision)
        }
    }

    public func setOperatorTOTP(name: String, secret: OperatorTOTP.Secret?, actor: String, at: Date) throws(CatalogError) {
        try OperatorInputChecks.check(totpSecret: secret)
        let (plain, sealed) = OperatorInputChecks.columns(secret)
        try write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT totp_secret IS NOT NULL OR totp_sealed IS NOT NULL AS has FROM operators WHERE name = ?",
                    arguments: [name])
            else {
                throw CatalogError(.notFound, "no operator named \(name)")
            }
            try OperatorInputChecks.checkTOTPChange(name: name, has: row["has"], enabling: secret != nil)
            try db.execute(
                sql: "UPDATE operators SET totp_secret = ?, totp_sealed = ?, totp_last_step = NULL WHERE name = ?",
                arguments: [plain, sealed, name])
            try AuditLog.append(
                in: db, actor: actor, action: secret == nil ? .operatorTOTPDisabled : .operatorTOTPEnabled, subjectID: name,
                at: at.catalogPrecision)
        }
    }

    public func acceptOperatorTOTPStep(name: String, step: Int64) throws(CatalogError) -> Bool {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE operators SET totp_last_step = ?
                    WHERE name = ? AND (totp_secret IS NOT NULL OR totp_sealed IS NOT NULL)
                        AND (totp_last_step IS NULL OR totp_last_step < ?)
                    """,
                arguments: [step, name, step])
            return db.changesCount > 0
        }
    }

    public func sealOperatorTOTP(name: String, plain: [UInt8], sealed: [UInt8]) throws(CatalogError) -> Bool {
        try OperatorInputChecks.check(totpSecret: .sealed(sealed))
        return try write { db in
            try db.execute(
                sql: "UPDATE operators SET totp_secret = NULL, totp_sealed = ? WHERE name = ? AND totp_secret = ?",
                arguments: [Data(sealed), name, Data(plain)])
            return db.changesCount > 0
        }
    }

    /// Roles by operator name (every operator's when `names` is nil).
    private static func operatorRoles(_ db: Database, names: [String]?) throws -> [String: [String: OperatorRole]] {
        var sql = "SELECT operator_name, tenant_id, role FROM operator_roles"
        var arguments: StatementArguments = []
        if let names {
            sql += " WHERE operator_name IN (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
            for name in names { arguments += [name] }
        }
        var roles: [String: [String: OperatorRole]] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            if let role = OperatorRole(rawValue: row["role"]) { roles[row["operator_name"], default: [:]][row["tenant_id"]] = role }
        }
        return roles
    }
}
