public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Creates the row of a redacted copy of a closed recording, in state `recording`: same call, tenant,
    /// track, codec, rate, creation time and expiry as the original (the copy never outlives it), its own
    /// id, path and (made by the writer) data key. Refused for an original that is open, shredded or itself
    /// a copy still pending.
    public func createRedactedRecording(
        originalID: String, id: String, path: String, storage: SealedStorage?, redaction: RecordingRedaction
    ) throws(CatalogError) -> RecordingRecord {
        try write { db in
            guard let original = try RecordingRow.fetchOne(db, key: originalID)?.record else {
                throw CatalogError(.notFound, "no recording with id \(originalID)")
            }
            let copy = try Self.redactedCopy(of: original, id: id, path: path, storage: storage, redaction: redaction)
            try RecordingRow(copy).insert(db)
            return copy
        }
    }

    /// Records how a redacted copy's check came out, audited in the same transaction: `passed` sets the
    /// copy's verification (`recording.redacted`, subject the copy); failed sets it `failed` and restricts
    /// the original (`recording.redaction_failed`, subject the original), so nobody plays or processes a
    /// voice whose redaction could not be shown to hold until someone looks.
    /// - Parameter details: counts and ids only (the redactor's span counts per kind, milliseconds).
    @discardableResult
    public func recordRedactionVerification(
        copyID: String, passed: Bool, actor: String, details: [String: String], at: Date
    ) throws(CatalogError) -> AuditEntry {
        let at = at.catalogPrecision
        return try write { db in
            guard var copy = try RecordingRow.fetchOne(db, key: copyID)?.record, var redaction = copy.redaction,
                let originalID = copy.redactedFrom
            else {
                throw CatalogError(.notFound, "no redacted copy with id \(copyID)")
            }
            redaction.verification = passed ? .passed : .failed
            copy.redaction = redaction
            try RecordingRow(copy).update(db)
            var details = details
            details["original"] = originalID
            if !passed {
                try db.execute(sql: "UPDATE recordings SET restricted = 1 WHERE id = ?", arguments: [originalID])
            }
            return try AuditLog.append(
                in: db, actor: actor, action: passed ? .recordingRedacted : .recordingRedactionFailed,
                tenantID: copy.tenantId, subjectID: passed ? copyID : originalID, details: details, at: at)
        }
    }

    /// The copy's row, checked against its original (shared by both backends).
    package static func redactedCopy(
        of original: RecordingRecord, id: String, path: String, storage: SealedStorage?, redaction: RecordingRedaction
    ) throws(CatalogError) -> RecordingRecord {
        guard original.state == .complete || original.state == .interrupted else {
            throw CatalogError(
                .invalidArgument,
                "recording \(original.id) is \(original.state.rawValue): only a closed recording can be redacted")
        }
        guard original.redaction?.verification != .pending else {
            throw CatalogError(
                .invalidArgument, "recording \(original.id) is a redacted copy not yet verified; redact its original")
        }
        guard !original.hold else {
            throw CatalogError(
                .invalidArgument, "recording \(original.id) is under legal hold: its audio is kept as it is until the hold is cleared")
        }
        return RecordingRecord(
            id: id, callId: original.callId, tenantId: original.tenantId, track: original.track, state: .recording,
            codec: original.codec, sampleRate: original.sampleRate, createdAt: original.createdAt,
            expiresAt: original.expiresAt, path: path, storage: storage, redactedFrom: original.id,
            redaction: redaction)
    }
}
