public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Sets or clears a recording's legal hold, audited in the same transaction.
    ///
    /// A held recording is never returned by ``expiredRecordings(asOf:)``, so the sweeper leaves it
    /// alone; re-wrapping its data key under the tenant's hold key is the key store's part.
    @discardableResult
    public func setHold(
        recordingID: String,
        held: Bool,
        reason: String? = nil,
        actor: String = "cli",
        at: Date = Date()
    ) throws(CatalogError) -> RecordingRecord {
        if let reason, reason.count > 500 {
            throw CatalogError(.invalidArgument, "a hold reason may have at most 500 characters")
        }
        return try write { db in
            guard var recording = try RecordingRow.fetchOne(db, key: recordingID)?.record else {
                throw CatalogError(.notFound, "no recording with id \(recordingID)")
            }
            guard recording.state != .shredded else {
                throw CatalogError(.invalidArgument, "recording \(recordingID) is already shredded; a hold cannot help")
            }
            recording.hold = held
            recording.holdReason = held ? reason : nil
            try RecordingRow(recording).update(db)
            try AuditLog.append(
                in: db,
                actor: actor,
                action: held ? .holdSet : .holdCleared,
                tenantID: recording.tenantId,
                subjectID: recordingID,
                details: reason.map { ["reason": $0] } ?? [:],
                at: at
            )
            return recording
        }
    }

    /// Recordings whose voice retention has ended at `now`, are not held and not yet shredded,
    /// oldest expiry first: what the sweeper must shred.
    public func expiredRecordings(asOf now: Date = Date()) throws(CatalogError) -> [RecordingRecord] {
        try read { db in
            try RecordingRow
                .filter(RecordingRow.Columns.state != RecordingState.shredded.rawValue)
                .filter(RecordingRow.Columns.hold == false)
                .filter(RecordingRow.Columns.expiresAt <= now)
                .order(RecordingRow.Columns.expiresAt, RecordingRow.Columns.id)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Marks a recording shredded (after its keys were destroyed and its file deleted), audited in
    /// the same transaction. Marking it twice is refused, so each shredding is recorded once.
    public func markRecordingShredded(id: String, actor: String = "sweeper", at: Date = Date()) throws(CatalogError) {
        let at = at.catalogPrecision
        try write { db in
            guard let recording = try RecordingRow.fetchOne(db, key: id)?.record else {
                throw CatalogError(.notFound, "no recording with id \(id)")
            }
            guard recording.state != .shredded else {
                throw CatalogError(.invalidArgument, "recording \(id) is already shredded")
            }
            guard !recording.hold else {
                throw CatalogError(.invalidArgument, "recording \(id) is on legal hold; clear the hold first")
            }
            try db.execute(
                sql: "UPDATE recordings SET state = 'shredded', shredded_at = ? WHERE id = ?",
                arguments: [at, id]
            )
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .recordingShredded,
                tenantID: recording.tenantId,
                subjectID: id,
                details: ["expiresAt": String.fromDatabaseValue(recording.expiresAt.databaseValue) ?? ""],
                at: at
            )
        }
    }

    /// Marks many recordings shredded in one transaction, each with its own audit entry: the sweeper's
    /// path for large batches. Recordings already shredded, held or missing are skipped (a resumed
    /// sweep may see some twice), so the count says how many were marked now.
    @discardableResult
    /// - Parameter reason: `expired` (the sweeper) or `erased` (a data subject's request), kept in the audit entry.
    public func markRecordingsShredded(
        ids: [String], actor: String = "sweeper", reason: String = "expired", at: Date = Date()
    ) throws(CatalogError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let at = at.catalogPrecision
        return try write { db in
            var marked = 0
            // Raw cached statements: this runs once per shredded recording, up to millions per sweep.
            let select = try db.cachedStatement(sql: "SELECT tenant_id, expires_at FROM recordings WHERE id = ? AND state != 'shredded' AND hold = 0")
            let update = try db.cachedStatement(
                sql: "UPDATE recordings SET state = 'shredded', shredded_at = ? WHERE id = ?"
            )
            for id in ids {
                guard let row = try Row.fetchOne(select, arguments: [id]) else { continue }
                let tenantID: String = row[0]
                let expiresAt: String = row[1]
                try update.execute(arguments: [at, id])
                try AuditLog.append(
                    in: db,
                    actor: actor,
                    action: .recordingShredded,
                    tenantID: tenantID,
                    subjectID: id,
                    details: ["expiresAt": expiresAt, "reason": reason],
                    at: at
                )
                marked += 1
            }
            return marked
        }
    }

    /// Transcripts whose retention has ended at `now` and are not yet shredded, oldest expiry first.
    public func expiredTranscripts(asOf now: Date = Date()) throws(CatalogError) -> [TranscriptRecord] {
        try read { db in
            try TranscriptRow
                .filter(TranscriptRow.Columns.state != TranscriptRecord.State.shredded.rawValue)
                .filter(TranscriptRow.Columns.expiresAt <= now)
                .order(TranscriptRow.Columns.expiresAt, TranscriptRow.Columns.id)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Marks transcripts shredded in one transaction, each audited (`transcript.shredded`). Already
    /// shredded or missing ones are skipped; returns how many were marked now.
    @discardableResult
    public func markTranscriptsShredded(
        ids: [String], actor: String = "sweeper", reason: String = "expired", at: Date = Date()
    ) throws(CatalogError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let at = at.catalogPrecision
        return try write { db in
            var marked = 0
            let select = try db.cachedStatement(
                sql: "SELECT tenant_id FROM transcripts WHERE id = ? AND state != 'shredded'")
            let update = try db.cachedStatement(
                sql: "UPDATE transcripts SET state = 'shredded', shredded_at = ? WHERE id = ?")
            for id in ids {
                guard let tenantID = try String.fetchOne(select, arguments: [id]) else { continue }
                try update.execute(arguments: [at, id])
                try AuditLog.append(
                    in: db, actor: actor, action: "transcript.shredded", tenantID: tenantID, subjectID: id,
                    details: ["reason": reason], at: at)
                marked += 1
            }
            return marked
        }
    }

    /// Every recording of these calls (any state), in call and track order: what a data subject's
    /// export or erasure covers.
    public func recordings(inCalls callIDs: [String]) throws(CatalogError) -> [RecordingRecord] {
        try read { db in
            try RecordingRow
                .filter(callIDs.contains(RecordingRow.Columns.callId))
                .order(RecordingRow.Columns.callId, RecordingRow.Columns.track, RecordingRow.Columns.createdAt)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Every transcript of these calls (any state).
    public func transcripts(inCalls callIDs: [String]) throws(CatalogError) -> [TranscriptRecord] {
        try read { db in
            try TranscriptRow
                .filter(callIDs.contains(TranscriptRow.Columns.callId))
                .order(TranscriptRow.Columns.callId, TranscriptRow.Columns.createdAt)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Closes a paused span that was opened without an end.
    public func closePausedSpan(id: Int64, endMs: Int64) throws(CatalogError) {
        try write { db in
            guard var span = try PausedSpanRow.fetchOne(db, key: id)?.record else {
                throw CatalogError(.notFound, "no paused span with id \(id)")
            }
            guard span.endMs == nil else {
                throw CatalogError(.invalidArgument, "paused span \(id) is already closed")
            }
            guard endMs >= span.startMs else {
                throw CatalogError(
                    .invalidArgument,
                    "a paused span cannot end (\(endMs) ms) before it starts (\(span.startMs) ms)"
                )
            }
            span.endMs = endMs
            try PausedSpanRow(span).update(db)
        }
    }
}
