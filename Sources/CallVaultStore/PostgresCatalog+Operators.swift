public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    public func addOperator(
        name: String, passwordHash: String, globalAdmin: Bool, roles: [String: OperatorRole], actor: String, at: Date
    ) async throws(CatalogError) -> OperatorAccount {
        try OperatorInputChecks.check(name: name, passwordHash: passwordHash, globalAdmin: globalAdmin, roles: roles)
        let at = at.postgresPrecision
        let event = AuditEvent(
            actor: actor, action: .operatorAdded, tenantID: roles.count == 1 ? roles.keys.first : nil, subjectID: name,
            details: OperatorInputChecks.auditDetails(globalAdmin: globalAdmin, roles: roles), at: at)
        try await transaction("add operator \(name)") { connection in
            var inserted = false
            for try await _ in try await connection.query(
                """
                INSERT INTO operators (name, password_hash, global_admin, created_at)
                VALUES (\(name), \(passwordHash), \(globalAdmin), \(at))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: self.logger)
            {
                inserted = true
            }
            guard inserted else { throw CatalogError(.duplicate, "an operator named \(name) already exists") }
            for (tenantID, role) in roles {
                var known = false
                for try await _ in try await connection.query(
                    "SELECT 1 FROM tenants WHERE id = \(tenantID)", logger: self.logger)
                {
                    known = true
                }
                guard known else { throw CatalogError(.notFound, "no tenant with id \(tenantID)") }
                try await connection.query(
                    "INSERT INTO operator_roles (operator_name, tenant_id, role) VALUES (\(name), \(tenantID), \(role.rawValue))",
                    logger: self.logger)
            }
            try await self.appendAudit(event, on: connection)
        }
        return OperatorAccount(name: name, globalAdmin: globalAdmin, roles: roles, createdAt: at)
    }

    public func operatorCredentials(name: String) async throws(CatalogError) -> OperatorCredentials? {
        guard OperatorAccount.isValidName(name) else { return nil }
        let found: [OperatorCredentials] = try await perform("read operator \(name)") {
            try await self.operatorRows(where: "WHERE o.name = $1", try Self.binds(name))
        }
        return found.first
    }

    public func operators() async throws(CatalogError) -> [OperatorAccount] {
        try await perform("list operators") { try await self.operatorRows(where: "", PostgresBindings()) }.map(\.account)
    }

    public func removeOperator(name: String, actor: String, at: Date) async throws(CatalogError) {
        let event = AuditEvent(actor: actor, action: .operatorRemoved, subjectID: name, at: at.postgresPrecision)
        try await transaction("remove operator \(name)") { connection in
            try await connection.query("DELETE FROM operator_roles WHERE operator_name = \(name)", logger: self.logger)
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM operators WHERE name = \(name) RETURNING name", logger: self.logger)
            {
                removed = true
            }
            guard removed else { throw CatalogError(.notFound, "no operator named \(name)") }
            try await self.appendAudit(event, on: connection)
        }
    }

    public func setOperatorTOTP(name: String, secret: OperatorTOTP.Secret?, actor: String, at: Date) async throws(CatalogError) {
        try OperatorInputChecks.check(totpSecret: secret)
        let event = AuditEvent(
            actor: actor, action: secret == nil ? .operatorTOTPDisabled : .operatorTOTPEnabled, subjectID: name,
            at: at.postgresPrecision)
        let (plain, sealed) = OperatorInputChecks.columns(secret)
        try await transaction("change the TOTP of operator \(name)") { connection in
            var has: Bool?
            for try await (present) in try await connection.query(
                "SELECT totp_secret IS NOT NULL OR totp_sealed IS NOT NULL FROM operators WHERE name = \(name) FOR UPDATE",
                logger: self.logger
            ).decode(Bool.self) {
                has = present
            }
            guard let has else { throw CatalogError(.notFound, "no operator named \(name)") }
            try OperatorInputChecks.checkTOTPChange(name: name, has: has, enabling: secret != nil)
            try await connection.query(
                """
                UPDATE operators SET totp_secret = \(plain), totp_sealed = \(sealed), totp_last_step = NULL
                WHERE name = \(name)
                """, logger: self.logger)
            try await self.appendAudit(event, on: connection)
        }
    }

    public func acceptOperatorTOTPStep(name: String, step: Int64) async throws(CatalogError) -> Bool {
        try await perform("accept a TOTP step of operator \(name)") {
            var accepted = false
            for try await _ in try await self.client.query(
                """
                UPDATE operators SET totp_last_step = \(step)
                WHERE name = \(name) AND (totp_secret IS NOT NULL OR totp_sealed IS NOT NULL)
                    AND (totp_last_step IS NULL OR totp_last_step < \(step))
                RETURNING name
                """, logger: self.logger)
            {
                accepted = true
            }
            return accepted
        }
    }

    public func sealOperatorTOTP(name: String, plain: [UInt8], sealed: [UInt8]) async throws(CatalogError) -> Bool {
        try OperatorInputChecks.check(totpSecret: .sealed(sealed))
        let (plain, sealed) = (Data(plain), Data(sealed))
        return try await perform("seal the TOTP secret of operator \(name)") {
            var changed = false
            for try await _ in try await self.client.query(
                """
                UPDATE operators SET totp_secret = NULL, totp_sealed = \(sealed)
                WHERE name = \(name) AND totp_secret = \(plain) RETURNING name
                """, logger: self.logger)
            {
                changed = true
            }
            return changed
        }
    }

    /// Operators with their roles (aggregated as `tenant=role` text), password hashes and TOTP.
    private func operatorRows(where clause: String, _ binds: PostgresBindings) async throws -> [OperatorCredentials] {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT o.name, o.password_hash, o.global_admin, o.created_at,
                        ARRAY(SELECT r.tenant_id || '=' || r.role FROM operator_roles r WHERE r.operator_name = o.name),
                        o.totp_secret, o.totp_sealed, o.totp_last_step
                    FROM operators o \(clause) ORDER BY o.name COLLATE "C"
                    """,
                binds: binds),
            logger: logger)
        var found: [OperatorCredentials] = []
        for try await (name, hash, globalAdmin, createdAt, pairs, plain, sealed, lastStep) in rows.decode(
            (String, String, Bool, Date, [String], Data?, Data?, Int64?).self)
        {
            var roles: [String: OperatorRole] = [:]
            for pair in pairs {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, let role = OperatorRole(rawValue: String(parts[1])) { roles[String(parts[0])] = role }
            }
            found.append(
                OperatorCredentials(
                    account: OperatorAccount(
                        name: name, globalAdmin: globalAdmin, roles: roles, createdAt: createdAt.postgresPrecision,
                        totp: plain != nil || sealed != nil),
                    passwordHash: hash,
                    totp: OperatorInputChecks.secret(plain: plain, sealed: sealed).map { OperatorTOTP(secret: $0, lastStep: lastStep) }))
        }
        return found
    }
}
