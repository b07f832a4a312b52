public import CallVaultModel
public import Foundation
internal import PostgresNIO

/// Transcript rows on PostgreSQL, as on SQLite (`Catalog+Transcripts.swift`): created by the
/// transcription worker once the sealed file is on disk, read by `transcripts show`.
extension PostgresCatalog {
    public func transcriptExpiry(tenantID: String, createdAt: Date) async throws(CatalogError) -> Date {
        let days = try await tenant(id: tenantID).policy.transcriptDays
        return createdAt.addingTimeInterval(Double(days) * 86_400).postgresPrecision
    }

    public func insertTranscript(_ transcript: TranscriptRecord, actor: String, details: [String: String])
        async throws(CatalogError)
    {
        var record = transcript
        record.createdAt = record.createdAt.postgresPrecision
        record.expiresAt = record.expiresAt.postgresPrecision
        record.shreddedAt = record.shreddedAt?.postgresPrecision
        let stored = record
        let event = AuditEvent(
            actor: actor, action: .transcriptCreated, tenantID: stored.tenantId, subjectID: stored.id,
            details: details.merging(["call": stored.callId, "engine": stored.engine]) { _, fixed in fixed },
            at: stored.createdAt)
        try await transaction("record transcript \(stored.id)") { connection in
            // The call must be the tenant's (the composite foreign key says so too, less helpfully); a
            // second transcript with the same id is refused without aborting on the primary key.
            let outcome = try await self.firstColumnText(
                of: """
                WITH c AS (SELECT id FROM calls WHERE id = \(stored.callId) AND tenant_id = \(stored.tenantId)),
                t AS (
                    INSERT INTO transcripts (id, call_id, tenant_id, engine, path, state, created_at, expires_at, shredded_at,
                        storage)
                    SELECT \(stored.id), c.id, \(stored.tenantId), \(stored.engine), \(stored.path), \(stored.state.rawValue),
                        \(stored.createdAt), \(stored.expiresAt), \(stored.shreddedAt), \(stored.storage?.rawValue)
                    FROM c
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id)
                SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'no call'
                    WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'duplicate' ELSE 'inserted' END
                """, on: connection)
            switch outcome {
            case "inserted": break
            case "no call": throw CatalogInputChecks.noCall(for: stored)
            default: throw CatalogInputChecks.duplicate(stored)
            }
            try await self.appendAudit(event, on: connection)
        }
    }

    public func transcript(id: String, tenantID: String?) async throws(CatalogError) -> TranscriptRecord {
        let found: TranscriptRecord? = try await perform("read transcript \(id)") {
            try await self.transcriptRecords(where: "WHERE id = $1", try Self.binds(id)).first
        }
        guard let found, tenantID == nil || found.tenantId == tenantID else {
            throw CatalogError(.notFound, "no transcript with id \(id)")
        }
        return found
    }

    public func transcripts(callID: String) async throws(CatalogError) -> [TranscriptRecord] {
        try await perform("read the transcripts of call \(callID)") {
            try await self.transcriptRecords(where: #"WHERE call_id = $1 ORDER BY created_at, id COLLATE "C""#, try Self.binds(callID))
        }
    }

    /// A negative `limit` lists every transcript, as SQLite's `LIMIT -1` does.
    public func transcripts(tenantID: String?, limit: Int) async throws(CatalogError) -> [TranscriptRecord] {
        let rows = limit >= 0 ? limit : nil
        return try await perform("list transcripts") {
            if let tenantID {
                return try await self.transcriptRecords(
                    where: #"WHERE tenant_id = $1 ORDER BY created_at DESC, id COLLATE "C" LIMIT $2"#,
                    try Self.binds(tenantID, rows))
            }
            return try await self.transcriptRecords(
                where: #"ORDER BY created_at DESC, id COLLATE "C" LIMIT $1"#, try Self.binds(rows))
        }
    }

    /// Transcripts matching `clause` (a WHERE and/or ORDER BY over the transcripts table).
    func transcriptRecords(where clause: String, _ binds: PostgresBindings) async throws -> [TranscriptRecord] {
        var transcripts: [TranscriptRecord] = []
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.transcriptColumns) FROM transcripts \(clause)", binds: binds),
            logger: logger)
        for try await row in rows.decode(TranscriptColumns.self) { transcripts.append(try Self.transcript(from: row)) }
        return transcripts
    }
}
