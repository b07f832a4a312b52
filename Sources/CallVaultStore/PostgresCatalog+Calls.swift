public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    public func registerCall(
        tenantID: String, externalID: String, callerNumber: String?, startedAt: Date, actor: String,
        callerKeys: CallerKeys?
    ) async throws(CatalogError) -> CallRecord {
        guard !externalID.isEmpty, externalID.utf8.count <= 200 else {
            throw CatalogError(.invalidArgument, "a call id must have 1 to 200 bytes")
        }
        let startedAt = startedAt.postgresPrecision
        let callID = Catalog.newID()
        var callerHash: Data?
        var callerEncrypted: Data?
        if let callerNumber {
            guard let callerKeys else {
                throw CatalogError(
                    .invalidArgument,
                    "a caller's number is kept only as a keyed hash and an encrypted copy: pass the tenant's caller keys")
            }
            callerHash = Data(try PhoneNumberHash.hash(callerNumber, key: callerKeys.hashKey))
            callerEncrypted = Data(
                try PhoneNumberHash.encrypt(callerNumber, key: callerKeys.encryptionKey, tenantID: tenantID, callID: callID))
        }
        let call = CallRecord(
            id: callID, tenantId: tenantID, externalId: externalID, startedAt: startedAt, callerHash: callerHash,
            callerEncrypted: callerEncrypted)
        let event = AuditEvent(
            actor: actor, action: .callStarted, tenantID: tenantID, subjectID: callID,
            details: ["externalId": externalID], at: startedAt)
        let hash = callerHash
        let encrypted = callerEncrypted
        try await transaction("register call \(externalID)") { connection in
            // The tenant must exist (the foreign key says so too, with a less helpful message); a second
            // registration of the same platform id is refused without aborting on the unique key.
            var outcome: String?
            for try await found in try await connection.query(
                """
                WITH t AS (SELECT id FROM tenants WHERE id = \(tenantID)),
                c AS (
                    INSERT INTO calls (id, tenant_id, external_id, started_at, caller_hash, caller_encrypted)
                    SELECT \(callID), t.id, \(externalID), \(startedAt), \(hash), \(encrypted) FROM t
                    ON CONFLICT (tenant_id, external_id) DO NOTHING
                    RETURNING id)
                SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'no tenant'
                    WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'duplicate' ELSE 'inserted' END
                """, logger: self.logger
            ).decode(String.self) {
                outcome = found
            }
            switch outcome {
            case "inserted": break
            case "no tenant": throw CatalogError(.notFound, "no tenant with id \(tenantID)")
            default: throw CatalogError(.duplicate, "call \(externalID) is already registered for this tenant")
            }
            try await self.appendAudit(event, on: connection)
        }
        return call
    }

    public func call(id: String, tenantID: String?) async throws(CatalogError) -> CallRecord {
        let found: CallRecord? = try await perform("read call \(id)") {
            try await self.calls(where: "WHERE id = $1", try Self.binds(id)).first
        }
        guard let found, tenantID == nil || found.tenantId == tenantID else {
            throw CatalogError(.notFound, "no call with id \(id)")
        }
        return found
    }

    public func call(tenantID: String, externalID: String) async throws(CatalogError) -> CallRecord? {
        try await perform("find call \(externalID)") {
            try await self.calls(where: "WHERE tenant_id = $1 AND external_id = $2", try Self.binds(tenantID, externalID))
                .first
        }
    }

    /// Calls matching `clause` (a WHERE and/or ORDER BY over the calls table).
    func calls(where clause: String, _ binds: PostgresBindings) async throws -> [CallRecord] {
        var calls: [CallRecord] = []
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.callColumns) FROM calls \(clause)", binds: binds), logger: logger)
        for try await row in rows.decode(CallColumns.self) { calls.append(Self.call(from: row)) }
        return calls
    }

    public func endCall(id: String, closingPause: PausedSpan?, at: Date) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func calls(externalID: String) async throws(CatalogError) -> [CallRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func calls(tenantID: String, callerNumber: String, callerKeys: CallerKeys) async throws(CatalogError) -> [CallRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func callSummaries(tenantID: String?, limit: Int?) async throws(CatalogError) -> [CallSummary] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recordConsentEvent(callID: String, kind: ConsentEventKind, method: ConsentMethod, at: Date, frameIndex: Int64?, timelineMs: Int64?, actor: String) async throws(CatalogError) -> ConsentEventRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recordConsentEvidence(callID: String, _ evidence: [ConsentEvidence], actor: String, at: Date) async throws(CatalogError) -> [ConsentEventRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recordCallEndedByLimit(callID: String, limit: String, details: [String: String], actor: String, at: Date) async throws(CatalogError) -> AuditEntry {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func consentEvents(callID: String) async throws(CatalogError) -> [ConsentEventRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
