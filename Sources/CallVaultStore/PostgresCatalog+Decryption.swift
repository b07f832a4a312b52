public import CallVaultModel
public import Foundation
internal import PostgresNIO

/// The audit entries every decryption writes before a key is unwrapped, and the GDPR Art. 18
/// restriction check that goes with them, as on SQLite (`Catalog+Decryption.swift`).
///
/// The check and the entries share one transaction. SQLite serialises writes; here the recordings the
/// check reads are locked `FOR SHARE`, so a restriction set at the same moment either committed first
/// (and is seen here: a locking read waits for it and reads the row as committed) or waits for this
/// transaction and comes after the decryption was allowed. If the entries cannot be written, the caller
/// decrypts nothing.
extension PostgresCatalog {
    public func auditRecordingDecryption(
        recordingID: String, tenantID: String?, actor: String, purpose: String, details: [String: String],
        restrictionOverride: RestrictionOverride?, at: Date
    ) async throws(CatalogError) -> DecryptionAudit {
        try CatalogInputChecks.check(restrictionOverride)
        let at = at.postgresPrecision
        return try await transaction("audit the decryption of recording \(recordingID)") { connection in
            var found: (tenantID: String, restricted: Bool)?
            for try await row in try await connection.query(
                "SELECT tenant_id, restricted FROM recordings WHERE id = \(recordingID) FOR SHARE", logger: self.logger
            ).decode((String, Bool).self) {
                found = row
            }
            guard let found, tenantID == nil || found.tenantID == tenantID else {
                throw CatalogError(.notFound, "no recording with id \(recordingID)")
            }
            let overrides = try await self.auditOverride(
                of: found.restricted ? [(recordingID, found.tenantID)] : [], on: connection, actor: actor,
                purpose: purpose, details: details, override: restrictionOverride, at: at,
                refusal: "recording \(recordingID) is restricted (GDPR Art. 18): kept, but not processed")
            return try await self.auditDecryption(
                .recordingDecrypted, of: recordingID, tenantID: found.tenantID, after: overrides, actor: actor,
                purpose: purpose, details: details, at: at, on: connection)
        }
    }

    public func auditTranscriptDecryption(
        transcriptID: String, tenantID: String?, actor: String, purpose: String, details: [String: String],
        restrictionOverride: RestrictionOverride?, at: Date
    ) async throws(CatalogError) -> DecryptionAudit {
        try CatalogInputChecks.check(restrictionOverride)
        let at = at.postgresPrecision
        return try await transaction("audit the decryption of transcript \(transcriptID)") { connection in
            var found: (tenantID: String, callID: String)?
            for try await row in try await connection.query(
                "SELECT tenant_id, call_id FROM transcripts WHERE id = \(transcriptID)", logger: self.logger
            ).decode((String, String).self) {
                found = row
            }
            guard let found, tenantID == nil || found.tenantID == tenantID else {
                throw CatalogError(.notFound, "no transcript with id \(transcriptID)")
            }
            // Every track of the call is locked, not only those restricted now: a locking read skips a row
            // that does not match its WHERE in its snapshot, and would miss a restriction being committed.
            var restricted: [(id: String, tenantID: String)] = []
            for try await (id, tenant, isRestricted, state) in try await connection.query(
                """
                SELECT id, tenant_id, restricted, state FROM recordings WHERE call_id = \(found.callID)
                ORDER BY id COLLATE "C" FOR SHARE
                """, logger: self.logger
            ).decode((String, String, Bool, String).self) where isRestricted && state != RecordingState.shredded.rawValue {
                restricted.append((id, tenant))
            }
            var overrideDetails = details
            overrideDetails["transcript"] = transcriptID
            let overrides = try await self.auditOverride(
                of: restricted, on: connection, actor: actor, purpose: purpose, details: overrideDetails,
                override: restrictionOverride, at: at,
                refusal: "transcript \(transcriptID) is made from recording \(restricted.first?.id ?? ""), "
                    + "which is restricted (GDPR Art. 18): kept, but not processed")
            return try await self.auditDecryption(
                .transcriptDecrypted, of: transcriptID, tenantID: found.tenantID, after: overrides, actor: actor,
                purpose: purpose, details: details, at: at, on: connection)
        }
    }

    /// Appends the decryption's own entry (`action`, with `purpose` among its details) after the overrides
    /// already appended, on `connection`.
    private func auditDecryption(
        _ action: AuditAction, of subjectID: String, tenantID: String, after overrides: [AuditEntry], actor: String,
        purpose: String, details: [String: String], at: Date, on connection: PostgresConnection
    ) async throws -> DecryptionAudit {
        var decrypted = details
        decrypted["purpose"] = purpose
        let entry = try await appendAudit(
            AuditEvent(actor: actor, action: action, tenantID: tenantID, subjectID: subjectID, details: decrypted, at: at),
            on: connection)
        return DecryptionAudit(decrypted: entry, restrictionOverrides: overrides)
    }

    /// Refuses with `refusal` when `restricted` holds a recording and there is no override; else audits
    /// the override once per restricted recording (`recording.restriction_overridden`), on `connection`.
    private func auditOverride(
        of restricted: [(id: String, tenantID: String)], on connection: PostgresConnection, actor: String,
        purpose: String, details: [String: String], override: RestrictionOverride?, at: Date,
        refusal: @autoclosure () -> String
    ) async throws -> [AuditEntry] {
        guard !restricted.isEmpty else { return [] }
        guard let override else { throw CatalogError(.restricted, refusal()) }
        var entries: [AuditEntry] = []
        for recording in restricted {
            var entry = details
            entry["purpose"] = purpose
            entry["reason"] = override.reason
            entries.append(
                try await appendAudit(
                    AuditEvent(
                        actor: actor, action: .restrictionOverridden, tenantID: recording.tenantID,
                        subjectID: recording.id, details: entry, at: at),
                    on: connection))
        }
        return entries
    }
}
