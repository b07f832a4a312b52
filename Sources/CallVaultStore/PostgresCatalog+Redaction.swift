public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Creates the row of a redacted copy of a closed recording (see ``Catalog``'s): the original is
    /// locked while the copy is checked against it and inserted.
    public func createRedactedRecording(
        originalID: String, id: String, path: String, storage: SealedStorage?, redaction: RecordingRedaction
    ) async throws(CatalogError) -> RecordingRecord {
        let json = try Self.json(redaction)
        return try await transaction("create a redacted copy of recording \(originalID)") { connection in
            var original: RecordingRecord?
            for try await row in try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.recordingColumns) FROM recordings WHERE id = $1 FOR UPDATE",
                    binds: try Self.binds(originalID)),
                logger: self.logger)
            {
                original = try Self.recording(from: row)
            }
            guard let original else { throw CatalogError(.notFound, "no recording with id \(originalID)") }
            let copy = try Catalog.redactedCopy(
                of: original, id: id, path: path, storage: storage, redaction: redaction)
            _ = try await connection.query(
                """
                INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate, created_at, expires_at,
                    path, storage, redacted_from, redaction)
                VALUES (\(copy.id), \(copy.callId), \(copy.tenantId), \(copy.track.rawValue), 'recording',
                    \(copy.codec.rawValue), \(copy.sampleRate), \(copy.createdAt), \(copy.expiresAt), \(copy.path),
                    \(copy.storage?.rawValue), \(original.id), \(json))
                """, logger: self.logger)
            return copy
        }
    }

    /// Records how a redacted copy's check came out, audited in the same transaction (see ``Catalog``'s).
    @discardableResult
    public func recordRedactionVerification(
        copyID: String, passed: Bool, actor: String, details: [String: String], at: Date
    ) async throws(CatalogError) -> AuditEntry {
        let at = at.postgresPrecision
        return try await transaction("record the check of redacted copy \(copyID)") { connection in
            var copy: RecordingRecord?
            for try await row in try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.recordingColumns) FROM recordings WHERE id = $1 FOR UPDATE",
                    binds: try Self.binds(copyID)),
                logger: self.logger)
            {
                copy = try Self.recording(from: row)
            }
            guard let copy, var redaction = copy.redaction, let originalID = copy.redactedFrom else {
                throw CatalogError(.notFound, "no redacted copy with id \(copyID)")
            }
            redaction.verification = passed ? .passed : .failed
            let json = try Self.json(redaction)
            _ = try await connection.query(
                "UPDATE recordings SET redaction = \(json) WHERE id = \(copyID)", logger: self.logger)
            if !passed {
                _ = try await connection.query(
                    "UPDATE recordings SET restricted = true WHERE id = \(originalID)", logger: self.logger)
            }
            var details = details
            details["original"] = originalID
            return try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: passed ? .recordingRedacted : .recordingRedactionFailed,
                    tenantID: copy.tenantId, subjectID: passed ? copyID : originalID, details: details, at: at),
                on: connection)
        }
    }

    static func json(_ redaction: RecordingRedaction) throws(CatalogError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do { return String(decoding: try encoder.encode(redaction), as: UTF8.self) } catch {
            throw CatalogError(.invalidArgument, "the redaction record cannot be encoded")
        }
    }
}
