public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Creates the row of a new recording of one track of a call, in state `recording`.
    ///
    /// The expiry is fixed now, from the tenant's current voice retention: `createdAt` plus
    /// `voiceDays` days (never more than 90). A later policy change does not move it.
    ///
    /// - Parameters:
    ///   - codec: the concrete codec the file is written in (``StorageCodec/native`` is refused:
    ///     resolve it to the codec the call arrived in first).
    ///   - path: the sealed file's path relative to the data directory.
    ///   - node: the serve node recording it (``RecordingRecord/node``); nil for a tool.
    ///   - storage: `spooled` when the directory keeps its files in an object store; nil otherwise.
    public func createRecording(
        id: String? = nil,
        callID: String,
        track: RecordingTrack,
        codec: StorageCodec,
        sampleRate: Int,
        path: String,
        createdAt: Date = Date(),
        node: String? = nil,
        storage: SealedStorage? = nil
    ) throws(CatalogError) -> RecordingRecord {
        guard codec != .native else {
            throw CatalogError(
                .invalidArgument,
                "a recording's codec must be concrete (opus, pcm16, g711u or g711a), not native"
            )
        }
        guard sampleRate > 0 else {
            throw CatalogError(.invalidArgument, "sample rate must be positive, got \(sampleRate)")
        }
        let createdAt = createdAt.catalogPrecision
        return try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            guard let tenant = try TenantRecord.fetchOne(db, key: call.tenantId) else {
                throw CatalogError(.notFound, "the tenant of call \(callID) is missing")
            }
            let days = min(tenant.voiceDays, TenantPolicy.maximumVoiceDays)
            let recording = RecordingRecord(
                id: id ?? Self.newID(),
                callId: callID,
                tenantId: call.tenantId,
                track: track,
                codec: codec,
                sampleRate: sampleRate,
                createdAt: createdAt,
                expiresAt: createdAt.addingTimeInterval(TimeInterval(days) * 86_400).catalogPrecision,
                path: path,
                node: node,
                storage: storage
            )
            try RecordingRow(recording).insert(db)
            return recording
        }
    }

    /// The recording with this id; with `tenantID`, only if it belongs to that tenant.
    public func recording(id: String, tenantID: String? = nil) throws(CatalogError) -> RecordingRecord {
        let recording = try read { db in try RecordingRow.fetchOne(db, key: id)?.record }
        guard let recording, tenantID == nil || recording.tenantId == tenantID else {
            throw CatalogError(.notFound, "no recording with id \(id)")
        }
        return recording
    }

    /// Updates how much of a recording is durable (called after each group flush).
    public func updateRecordingProgress(id: String, durationMs: Int64, bytes: Int64) throws(CatalogError) {
        try write { db in
            try db.execute(
                sql: "UPDATE recordings SET duration_ms = ?, bytes = ? WHERE id = ? AND state = 'recording'",
                arguments: [durationMs, bytes, id]
            )
            guard db.changesCount == 1 else {
                throw CatalogError(.notFound, "no recording being recorded with id \(id)")
            }
        }
    }

    /// Durable progress of many recordings in one transaction (the group flush reports every open
    /// recording that changed at once, so the catalog's writer is taken once per report, not once
    /// per recording, and the event loops that open and finish recordings never wait behind it).
    /// - Returns: the ids that are no longer being recorded (finished meanwhile), left unchanged.
    @discardableResult
    public func updateRecordingProgress(_ updates: [RecordingProgress]) throws(CatalogError) -> [String] {
        guard !updates.isEmpty else { return [] }
        return try write { db in
            var finished: [String] = []
            let statement = try db.cachedStatement(
                sql: "UPDATE recordings SET duration_ms = ?, bytes = ? WHERE id = ? AND state = 'recording'")
            for update in updates {
                try statement.execute(arguments: [update.durationMs, update.bytes, update.recordingID])
                if db.changesCount != 1 { finished.append(update.recordingID) }
            }
            return finished
        }
    }

    /// Moves a recording from `recording` to `complete` or `interrupted`.
    public func finishRecording(
        id: String,
        state: RecordingState,
        durationMs: Int64,
        bytes: Int64
    ) throws(CatalogError) {
        guard state == .complete || state == .interrupted else {
            throw CatalogError(
                .invalidArgument,
                "a recording finishes as complete or interrupted, not \(state.rawValue)"
            )
        }
        try write { db in
            _ = try Self.closeOpenRecording(db, id: id, state: state, durationMs: durationMs, bytes: bytes)
        }
    }

    /// Moves a recording out of `recording` inside the caller's transaction, the one way every close
    /// (finish, completion with its job, recovery) changes the row; returns the row as it was.
    static func closeOpenRecording(
        _ db: Database, id: String, state: RecordingState, durationMs: Int64, bytes: Int64
    ) throws -> RecordingRecord {
        guard let recording = try RecordingRow.fetchOne(db, key: id)?.record, recording.state == .recording else {
            throw CatalogError(.notFound, "no recording being recorded with id \(id)")
        }
        try db.execute(
            sql: "UPDATE recordings SET state = ?, duration_ms = ?, bytes = ? WHERE id = ? AND state = 'recording'",
            arguments: [state.rawValue, durationMs, bytes, id]
        )
        if let draft = WebhookEventDraft.recordingClosed(recording, state: state, durationMs: durationMs, bytes: bytes) {
            try enqueueWebhook(draft, in: db, at: Date())
        }
        return recording
    }

    /// Marks a finished recording `complete` and queues its call's transcription job in one
    /// transaction: a crash can never leave a complete recording that is never transcribed.
    /// - Returns: the job queued, or the one already queued for this call and engine.
    @discardableResult
    public func completeRecording(
        id: String, durationMs: Int64, bytes: Int64, transcriptionEngine: String, at: Date = Date()
    ) throws(CatalogError) -> JobRecord {
        let at = at.catalogPrecision
        return try write { db in
            let recording = try Self.closeOpenRecording(db, id: id, state: .complete, durationMs: durationMs, bytes: bytes)
            return try Self.insertJob(
                db, callID: recording.callId, recordingID: id, engine: transcriptionEngine, at: at)
        }
    }

    /// Records a span of the call's timeline whose audio was withheld; `endMs` nil while still open.
    @discardableResult
    public func addPausedSpan(
        callID: String,
        recordingID: String? = nil,
        startMs: Int64,
        endMs: Int64? = nil
    ) throws(CatalogError) -> PausedSpanRecord {
        if let endMs, endMs < startMs {
            throw CatalogError(
                .invalidArgument,
                "a paused span cannot end (\(endMs) ms) before it starts (\(startMs) ms)"
            )
        }
        return try write { db in
            try PausedSpanRow(
                PausedSpanRecord(callId: callID, recordingId: recordingID, startMs: startMs, endMs: endMs)
            ).inserted(db).record
        }
    }

    /// A call's paused spans in timeline order.
    public func pausedSpans(callID: String) throws(CatalogError) -> [PausedSpanRecord] {
        try read { db in
            try PausedSpanRow.filter(PausedSpanRow.Columns.callId == callID)
                .order(PausedSpanRow.Columns.startMs).fetchAll(db).map(\.record)
        }
    }

    /// Recordings, newest first, filtered by call and/or tenant. With both, a call of another
    /// tenant yields nothing: a tenant's filter can never reach another tenant's rows.
    public func recordingSummaries(callID: String? = nil, tenantID: String? = nil) throws(CatalogError)
        -> [RecordingSummary]
    {
        try read { db in
            var request = RecordingRow.order(
                RecordingRow.Columns.createdAt.desc,
                RecordingRow.Columns.id
            )
            if let callID { request = request.filter(RecordingRow.Columns.callId == callID) }
            if let tenantID { request = request.filter(RecordingRow.Columns.tenantId == tenantID) }
            return try request.fetchAll(db).map { RecordingSummary($0.record) }
        }
    }
}

extension Catalog {
    /// Restricts a recording (GDPR Art. 18: kept, but not transcribed or exported without an audited
    /// override) or lifts the restriction; audited `recording.restricted` / `recording.unrestricted`.
    public func setRestricted(
        recordingID: String, _ restricted: Bool, reason: String, actor: String = "cli", at: Date = Date()
    ) throws(CatalogError) {
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            throw CatalogError(.invalidArgument, "a restriction needs a reason of 1 to 500 bytes")
        }
        let at = at.catalogPrecision
        try write { db in
            guard let recording = try RecordingRow.fetchOne(db, key: recordingID)?.record else {
                throw CatalogError(.notFound, "no recording with id \(recordingID)")
            }
            try db.execute(
                sql: "UPDATE recordings SET restricted = ? WHERE id = ?", arguments: [restricted, recordingID])
            try AuditLog.append(
                in: db, actor: actor, action: restricted ? .recordingRestricted : .recordingUnrestricted,
                tenantID: recording.tenantId, subjectID: recordingID, details: ["reason": reason], at: at)
        }
    }
}
