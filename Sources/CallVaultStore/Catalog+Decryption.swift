public import CallVaultModel
public import Foundation
internal import GRDB

/// The audit entries every decryption writes before a key is unwrapped, and the GDPR Art. 18
/// restriction check that goes with them.
///
/// The check and the entries share one write transaction: writes are serialized, so a restriction
/// set at the same moment either committed first (and is seen here) or came after the decryption was
/// allowed. If the entries cannot be written, the caller decrypts nothing.
extension Catalog {
    /// Audits the decryption of one recording: refuses it with `restricted` while the recording is
    /// restricted and no override is given; otherwise appends `recording.restriction_overridden`
    /// (when it is restricted) and then `recording.decrypted`, in one transaction.
    /// - Parameters:
    ///   - tenantID: when given, a recording of another tenant is reported as not found.
    ///   - purpose: why (`export`, `transcription`, ...), kept in both entries.
    ///   - details: more details for both entries (ids only; never numbers, keys or text).
    @discardableResult
    public func auditRecordingDecryption(
        recordingID: String, tenantID: String? = nil, actor: String, purpose: String,
        details: [String: String] = [:], restrictionOverride: RestrictionOverride? = nil, at: Date = Date()
    ) throws(CatalogError) -> DecryptionAudit {
        try CatalogInputChecks.check(restrictionOverride)
        return try write { db in
            guard let recording = try RecordingRow.fetchOne(db, key: recordingID)?.record,
                tenantID == nil || recording.tenantId == tenantID
            else {
                throw CatalogError(.notFound, "no recording with id \(recordingID)")
            }
            let overrides = try Self.auditOverride(
                of: recording.restricted ? [recording] : [], in: db, actor: actor, purpose: purpose, details: details,
                override: restrictionOverride, at: at,
                refusal: "recording \(recording.id) is restricted (GDPR Art. 18): kept, but not processed")
            var decrypted = details
            decrypted["purpose"] = purpose
            let entry = try AuditLog.append(
                in: db, actor: actor, action: .recordingDecrypted, tenantID: recording.tenantId,
                subjectID: recording.id, details: decrypted, at: at)
            return DecryptionAudit(decrypted: entry, restrictionOverrides: overrides)
        }
    }

    /// Audits the decryption of one transcript. A transcript is made from its call's tracks, so while
    /// one of them is restricted (and not shredded) it is refused with `restricted` unless overridden,
    /// as its recording would be; an override is audited once per restricted recording, before
    /// `transcript.decrypted`, in one transaction.
    @discardableResult
    public func auditTranscriptDecryption(
        transcriptID: String, tenantID: String? = nil, actor: String, purpose: String,
        details: [String: String] = [:], restrictionOverride: RestrictionOverride? = nil, at: Date = Date()
    ) throws(CatalogError) -> DecryptionAudit {
        try CatalogInputChecks.check(restrictionOverride)
        return try write { db in
            guard let transcript = try TranscriptRow.fetchOne(db, key: transcriptID)?.record,
                tenantID == nil || transcript.tenantId == tenantID
            else {
                throw CatalogError(.notFound, "no transcript with id \(transcriptID)")
            }
            let restricted =
                try RecordingRow
                .filter(RecordingRow.Columns.callId == transcript.callId)
                .filter(RecordingRow.Columns.restricted == true)
                .filter(RecordingRow.Columns.state != RecordingState.shredded.rawValue)
                .order(RecordingRow.Columns.id)
                .fetchAll(db)
                .map(\.record)
            var overrideDetails = details
            overrideDetails["transcript"] = transcript.id
            let overrides = try Self.auditOverride(
                of: restricted, in: db, actor: actor, purpose: purpose, details: overrideDetails,
                override: restrictionOverride, at: at,
                refusal: "transcript \(transcript.id) is made from recording \(restricted.first?.id ?? ""), "
                    + "which is restricted (GDPR Art. 18): kept, but not processed")
            var decrypted = details
            decrypted["purpose"] = purpose
            let entry = try AuditLog.append(
                in: db, actor: actor, action: .transcriptDecrypted, tenantID: transcript.tenantId,
                subjectID: transcript.id, details: decrypted, at: at)
            return DecryptionAudit(decrypted: entry, restrictionOverrides: overrides)
        }
    }

    /// Refuses with `refusal` when `restricted` holds a recording and there is no override; else audits
    /// the override once per restricted recording.
    private static func auditOverride(
        of restricted: [RecordingRecord], in db: Database, actor: String, purpose: String, details: [String: String],
        override: RestrictionOverride?, at: Date, refusal: @autoclosure () -> String
    ) throws -> [AuditEntry] {
        guard !restricted.isEmpty else { return [] }
        guard let override else { throw CatalogError(.restricted, refusal()) }
        return try restricted.map { recording in
            var entry = details
            entry["purpose"] = purpose
            entry["reason"] = override.reason
            return try AuditLog.append(
                in: db, actor: actor, action: .restrictionOverridden, tenantID: recording.tenantId,
                subjectID: recording.id, details: entry, at: at)
        }
    }
}
