public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Creates a track's recording in state `recording`, its expiry fixed now from the tenant's voice
    /// retention (`createdAt` plus `voiceDays` days, never more than 90; a later policy change does not move
    /// it). One statement: the call, its tenant's retention and the insert.
    public func createRecording(
        id: String?, callID: String, track: RecordingTrack, codec: StorageCodec, sampleRate: Int, path: String,
        createdAt: Date, node: String?, storage: SealedStorage?
    ) async throws(CatalogError) -> RecordingRecord {
        guard codec != .native else {
            throw CatalogError(
                .invalidArgument, "a recording's codec must be concrete (opus, pcm16, g711u or g711a), not native")
        }
        guard sampleRate > 0 else {
            throw CatalogError(.invalidArgument, "sample rate must be positive, got \(sampleRate)")
        }
        let createdAt = createdAt.postgresPrecision
        let id = id ?? Catalog.newID()
        let maximumDays = TenantPolicy.maximumVoiceDays
        let inserted: (String, Date)? = try await perform("create recording \(id) of call \(callID)") {
            var inserted: (String, Date)?
            for try await row in try await self.client.query(
                """
                INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate, created_at, expires_at,
                    path, node, storage)
                SELECT \(id), c.id, c.tenant_id, \(track.rawValue), 'recording', \(codec.rawValue), \(sampleRate),
                    \(createdAt), \(createdAt)::timestamptz + LEAST(t.voice_days, \(maximumDays)) * interval '86400 seconds',
                    \(path), \(node), \(storage?.rawValue)
                FROM calls c JOIN tenants t ON t.id = c.tenant_id
                WHERE c.id = \(callID)
                RETURNING tenant_id, expires_at
                """, logger: self.logger
            ).decode((String, Date).self) {
                inserted = row
            }
            return inserted
        }
        guard let (tenantID, expiresAt) = inserted else { throw CatalogError(.notFound, "no call with id \(callID)") }
        return RecordingRecord(
            id: id, callId: callID, tenantId: tenantID, track: track, codec: codec, sampleRate: sampleRate,
            createdAt: createdAt, expiresAt: expiresAt.postgresPrecision, path: path, node: node, storage: storage)
    }

    public func recording(id: String, tenantID: String?) async throws(CatalogError) -> RecordingRecord {
        let found: RecordingRecord? = try await perform("read recording \(id)") {
            try await self.recordings(where: "WHERE id = $1", try Self.binds(id)).first
        }
        guard let found, tenantID == nil || found.tenantId == tenantID else {
            throw CatalogError(.notFound, "no recording with id \(id)")
        }
        return found
    }

    /// Durable progress of many recordings in one statement (one round trip per group flush, whatever the
    /// number of open recordings): the updates go as three arrays and are joined back by `unnest`.
    /// - Returns: the ids that are no longer being recorded (finished meanwhile, or unknown), left unchanged,
    ///   in the order given.
    public func updateRecordingProgress(_ updates: [RecordingProgress]) async throws(CatalogError) -> [String] {
        guard !updates.isEmpty else { return [] }
        // One row per id (the last update of an id wins, as when they are applied in order).
        var position: [String: Int] = [:]
        var ids: [String] = []
        var durations: [Int64] = []
        var sizes: [Int64] = []
        for update in updates {
            if let index = position[update.recordingID] {
                durations[index] = update.durationMs
                sizes[index] = update.bytes
            } else {
                position[update.recordingID] = ids.count
                ids.append(update.recordingID)
                durations.append(update.durationMs)
                sizes.append(update.bytes)
            }
        }
        let batch = (ids: ids, durations: durations, sizes: sizes)
        let updated: Set<String> = try await perform("record the progress of \(ids.count) recordings") {
            var updated: Set<String> = []
            for try await id in try await self.client.query(
                """
                UPDATE recordings r SET duration_ms = u.duration_ms, bytes = u.bytes
                FROM unnest(\(batch.ids)::text[], \(batch.durations)::bigint[], \(batch.sizes)::bigint[]) AS u(id, duration_ms, bytes)
                WHERE r.id = u.id AND r.state = 'recording'
                RETURNING r.id
                """, logger: self.logger
            ).decode(String.self) {
                updated.insert(id)
            }
            return updated
        }
        return updates.map(\.recordingID).filter { !updated.contains($0) }
    }

    public func finishRecording(id: String, state: RecordingState, durationMs: Int64, bytes: Int64)
        async throws(CatalogError)
    {
        guard state == .complete || state == .interrupted else {
            throw CatalogError(
                .invalidArgument, "a recording finishes as complete or interrupted, not \(state.rawValue)")
        }
        let logger = self.logger
        // A transaction: the recording's webhook event (if its tenant has an endpoint) commits with it.
        _ = try await transaction("finish recording \(id)") { connection in
            try await Self.closeOpenRecording(
                on: connection, id: id, state: state, durationMs: durationMs, bytes: bytes, logger: logger)
        }
    }

    /// Moves a recording out of `recording` on `connection` (inside the caller's transaction, if any): the one
    /// way every close (finish, completion with its job, recovery) changes the row.
    /// - Returns: the recording's call and tenant.
    static func closeOpenRecording(
        on connection: PostgresConnection, id: String, state: RecordingState, durationMs: Int64, bytes: Int64,
        logger: Logger
    ) async throws -> (callID: String, tenantID: String) {
        var closed: (String, String, String)?
        for try await row in try await connection.query(
            """
            UPDATE recordings SET state = \(state.rawValue), duration_ms = \(durationMs), bytes = \(bytes)
            WHERE id = \(id) AND state = 'recording'
            RETURNING call_id, tenant_id, track
            """, logger: logger
        ).decode((String, String, String).self) {
            closed = row
        }
        guard let closed else { throw CatalogError(.notFound, "no recording being recorded with id \(id)") }
        if let track = RecordingTrack(rawValue: closed.2),
            let draft = WebhookEventDraft.recordingClosed(
                id: id, callID: closed.0, tenantID: closed.1, track: track, state: state, durationMs: durationMs, bytes: bytes)
        {
            try await PostgresCatalog.enqueueWebhook(draft, on: connection, at: Date(), logger: logger)
        }
        return (closed.0, closed.1)
    }

    /// Marks a finished recording `complete` and queues its call's transcription job in one transaction (the
    /// queue's own insert, ``PostgresJobQueue/enqueue(_:on:logger:)``: once per call and engine, live or
    /// archived, with its wake-up at commit), so a crash never leaves a complete recording that is never
    /// transcribed.
    /// - Returns: the job queued, or the one already queued for this call and engine.
    public func completeRecording(
        id: String, durationMs: Int64, bytes: Int64, transcriptionEngine: String, at: Date
    ) async throws(CatalogError) -> JobRecord {
        try Self.checkEngine(transcriptionEngine)
        let logger = self.logger
        return try await transaction("complete recording \(id)") { connection in
            let (callID, tenantID) = try await Self.closeOpenRecording(
                on: connection, id: id, state: .complete, durationMs: durationMs, bytes: bytes, logger: logger)
            return try await PostgresJobQueue.enqueue(
                JobRequest(callID: callID, recordingID: id, tenantID: tenantID, engine: transcriptionEngine),
                on: connection, logger: logger
            ).job
        }
    }

    /// Refuses an engine name the queue would refuse, before anything changes.
    static func checkEngine(_ engine: String) throws(CatalogError) {
        do { try PostgresJobQueue.checkEngine(engine) } catch { throw CatalogError(.invalidArgument, error.message) }
    }

    public func addPausedSpan(callID: String, recordingID: String?, startMs: Int64, endMs: Int64?)
        async throws(CatalogError) -> PausedSpanRecord
    {
        if let endMs, endMs < startMs {
            throw CatalogError(
                .invalidArgument, "a paused span cannot end (\(endMs) ms) before it starts (\(startMs) ms)")
        }
        let id: Int64? = try await perform("add a paused span to call \(callID)") {
            var id: Int64?
            for try await found in try await self.client.query(
                """
                INSERT INTO paused_spans (call_id, recording_id, start_ms, end_ms)
                VALUES (\(callID), \(recordingID), \(startMs), \(endMs))
                RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = found
            }
            return id
        }
        return PausedSpanRecord(id: id, callId: callID, recordingId: recordingID, startMs: startMs, endMs: endMs)
    }

    /// Closes a paused span opened without an end: one statement that reads the span as it was (to say why
    /// it refused) and closes it only if it is open and `endMs` is not before its start.
    public func closePausedSpan(id: Int64, endMs: Int64) async throws(CatalogError) {
        let outcome: (Int64?, Int64?, Bool)? = try await perform("close paused span \(id)") {
            var outcome: (Int64?, Int64?, Bool)?
            for try await row in try await self.client.query(
                """
                WITH s AS (SELECT start_ms, end_ms FROM paused_spans WHERE id = \(id)),
                u AS (
                    UPDATE paused_spans SET end_ms = \(endMs)
                    WHERE id = \(id) AND end_ms IS NULL AND start_ms <= \(endMs)
                    RETURNING id)
                SELECT (SELECT start_ms FROM s), (SELECT end_ms FROM s), EXISTS (SELECT 1 FROM u)
                """, logger: self.logger
            ).decode((Int64?, Int64?, Bool).self) {
                outcome = row
            }
            return outcome
        }
        guard let (startMs, storedEnd, closed) = outcome, let startMs else {
            throw CatalogError(.notFound, "no paused span with id \(id)")
        }
        guard !closed else { return }
        guard storedEnd == nil else { throw CatalogError(.invalidArgument, "paused span \(id) is already closed") }
        throw CatalogError(
            .invalidArgument, "a paused span cannot end (\(endMs) ms) before it starts (\(startMs) ms)")
    }

    public func pausedSpans(callID: String) async throws(CatalogError) -> [PausedSpanRecord] {
        try await perform("list the paused spans of call \(callID)") {
            var spans: [PausedSpanRecord] = []
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.pausedSpanColumns) FROM paused_spans WHERE call_id = $1 ORDER BY start_ms, id",
                    binds: try Self.binds(callID)),
                logger: self.logger)
            for try await row in rows.decode(PausedSpanColumns.self) { spans.append(Self.pausedSpan(from: row)) }
            return spans
        }
    }

    /// Recordings, newest first, filtered by call and/or tenant. With both, a call of another tenant yields
    /// nothing: a tenant's filter can never reach another tenant's rows.
    public func recordingSummaries(callID: String?, tenantID: String?) async throws(CatalogError)
        -> [RecordingSummary]
    {
        try await perform("list recordings", within: settings.longReadTimeout) {
            try await self.recordings(
                where: """
                    WHERE ($1::text IS NULL OR call_id = $1) AND ($2::text IS NULL OR tenant_id = $2)
                    ORDER BY created_at DESC, id COLLATE "C"
                    """, try Self.binds(callID, tenantID)
            ).map(RecordingSummary.init)
        }
    }

    /// Restricts a recording (GDPR Art. 18: kept, but not transcribed or exported without an audited
    /// override) or lifts the restriction; audited `recording.restricted` / `recording.unrestricted` in the
    /// same transaction.
    public func setRestricted(recordingID: String, _ restricted: Bool, reason: String, actor: String, at: Date)
        async throws(CatalogError)
    {
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            throw CatalogError(.invalidArgument, "a restriction needs a reason of 1 to 500 bytes")
        }
        let at = at.postgresPrecision
        try await transaction("restrict recording \(recordingID)") { connection in
            var tenantID: String?
            for try await found in try await connection.query(
                "UPDATE recordings SET restricted = \(restricted) WHERE id = \(recordingID) RETURNING tenant_id",
                logger: self.logger
            ).decode(String.self) {
                tenantID = found
            }
            guard let tenantID else { throw CatalogError(.notFound, "no recording with id \(recordingID)") }
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: restricted ? .recordingRestricted : .recordingUnrestricted, tenantID: tenantID,
                    subjectID: recordingID, details: ["reason": reason], at: at),
                on: connection)
        }
    }
}
