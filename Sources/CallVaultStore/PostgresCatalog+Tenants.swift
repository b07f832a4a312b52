public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    public func addTenant(name: String, policy: TenantPolicy, actor: String, at: Date) async throws(CatalogError)
        -> (tenant: Tenant, token: String)
    {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw CatalogError(.invalidArgument, "a tenant name must have 1 to 200 characters")
        }
        try policy.validate()
        let at = at.postgresPrecision
        let (token, tokenHash) = try TenantToken.generate()
        let id = Catalog.newID()
        let tenant = Tenant(id: id, name: trimmed, policy: policy, createdAt: at, updatedAt: at)
        let event = AuditEvent(
            actor: actor, action: .tenantCreated, tenantID: id, subjectID: id, details: Catalog.auditDetails(of: policy),
            at: at)
        try await transaction("add tenant \(trimmed)") { connection in
            // ON CONFLICT on the name only: a clash of token hashes is a 2^-256 event and fails loudly.
            var inserted = false
            for try await _ in try await connection.query(
                """
                INSERT INTO tenants (id, name, token_hash, consent_mode, require_disclosure, consent_digit, optout_digit,
                    voice_days, transcript_days, codec, transcript_language, transcript_model, created_at, updated_at,
                    sip_settings, redact, transcription, client_certs)
                VALUES (\(id), \(trimmed), \(Data(tokenHash)), \(policy.consentMode.rawValue), \(policy.requireDisclosure),
                    \(policy.consentDigit.map(String.init)), \(policy.optOutDigit.map(String.init)), \(policy.voiceDays),
                    \(policy.transcriptDays), \(policy.codec.rawValue), \(policy.transcriptLanguage),
                    \(policy.transcriptModel), \(at), \(at), \(policy.sip.columnText), \(policy.redact.columnText),
                    \(policy.transcription.columnText), \(policy.clientCertificates.columnText))
                ON CONFLICT (name) DO NOTHING
                RETURNING id
                """, logger: self.logger
            ) {
                inserted = true
            }
            guard inserted else { throw CatalogError(.duplicate, "a tenant named \(trimmed) already exists") }
            try await self.appendAudit(event, on: connection)
        }
        return (tenant, token)
    }

    public func tenant(authenticatedBy token: String) async throws(CatalogError) -> Tenant? {
        guard token.hasPrefix(TenantToken.prefix), token.utf8.count < 200 else { return nil }
        let hash = TenantToken.hash(token)
        let found: (Tenant, Data)? = try await perform("authenticate a tenant") {
            var found: (Tenant, Data)?
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.tenantColumns), token_hash FROM tenants WHERE token_hash = $1",
                    binds: try Self.binds(Data(hash))),
                logger: self.logger)
            for try await (id, name, mode, disclosure, consent, optOut, voice, transcript, codec, language, model, created,
                updated, sip, redact, transcription, clientCerts, stored) in rows.decode(
                    (
                        String, String, String, Bool, String?, String?, Int, Int, String, String, String?, Date, Date, String?,
                        String?, String?, String?, Data
                    ).self)
            {
                let columns: TenantColumns = (
                    id, name, mode, disclosure, consent, optOut, voice, transcript, codec, language, model, created, updated, sip,
                    redact, transcription, clientCerts
                )
                found = (try Self.tenant(from: columns), stored)
            }
            return found
        }
        guard let found, CatalogHash.constantTimeEquals(Array(found.1), hash) else { return nil }
        return found.0
    }

    public func tenant(id: String) async throws(CatalogError) -> Tenant {
        let found: Tenant? = try await perform("read tenant \(id)") {
            try await self.tenants(where: "WHERE id = $1", try Self.binds(id)).first
        }
        guard let found else { throw CatalogError(.notFound, "no tenant with id \(id)") }
        return found
    }

    public func tenants() async throws(CatalogError) -> [Tenant] {
        try await perform("list tenants") {
            try await self.tenants(where: "ORDER BY name", PostgresBindings())
        }
    }

    public func updatePolicy(ofTenant id: String, to policy: TenantPolicy, actor: String, at: Date)
        async throws(CatalogError) -> Tenant
    {
        try policy.validate()
        let at = at.postgresPrecision
        return try await transaction("change the policy of tenant \(id)") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.tenantColumns) FROM tenants WHERE id = $1 FOR UPDATE", binds: try Self.binds(id)),
                logger: self.logger)
            var before: Tenant?
            for try await row in rows { before = try Self.tenant(from: try row.decode(TenantColumns.self)) }
            guard let before else { throw CatalogError(.notFound, "no tenant with id \(id)") }
            try await connection.query(
                """
                UPDATE tenants SET consent_mode = \(policy.consentMode.rawValue),
                    require_disclosure = \(policy.requireDisclosure),
                    consent_digit = \(policy.consentDigit.map(String.init)),
                    optout_digit = \(policy.optOutDigit.map(String.init)), voice_days = \(policy.voiceDays),
                    transcript_days = \(policy.transcriptDays), codec = \(policy.codec.rawValue),
                    transcript_language = \(policy.transcriptLanguage), transcript_model = \(policy.transcriptModel),
                    sip_settings = \(policy.sip.columnText), redact = \(policy.redact.columnText),
                    transcription = \(policy.transcription.columnText),
                    client_certs = \(policy.clientCertificates.columnText), updated_at = \(at)
                WHERE id = \(id)
                """, logger: self.logger)
            var details = Catalog.auditDetails(of: policy)
            details["changed"] = Catalog.changedFields(from: before.policy, to: policy).joined(separator: ",")
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .tenantPolicyChanged, tenantID: id, subjectID: id, details: details, at: at),
                on: connection)
            return Tenant(id: id, name: before.name, policy: policy, createdAt: before.createdAt, updatedAt: at)
        }
    }

    /// Tenants matching `clause` (a WHERE and/or ORDER BY over the tenants table).
    func tenants(where clause: String, _ binds: PostgresBindings) async throws -> [Tenant] {
        var tenants: [Tenant] = []
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.tenantColumns) FROM tenants \(clause)", binds: binds), logger: logger)
        for try await row in rows { tenants.append(try Self.tenant(from: try row.decode(TenantColumns.self))) }
        return tenants
    }

    /// Bindings for a statement written as text (`$1`, `$2`, …).
    static func binds(_ values: (any PostgresEncodable & Sendable)?...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try bindings.append(value) } else { bindings.appendNull() }
        }
        return bindings
    }
}
