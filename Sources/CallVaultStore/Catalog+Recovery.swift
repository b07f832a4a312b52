public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Marks a recording that a crash left in state `recording` as `interrupted`, with the duration
    /// and bytes start-up recovery found readable, and appends the `recording.recovered` audit entry
    /// in the same transaction: the state change and its evidence commit together or not at all.
    ///
    /// - Parameter details: what recovery found (parts, segments, how the file ended); no audio,
    ///   keys or phone numbers.
    @discardableResult
    public func markRecordingInterrupted(
        id: String,
        durationMs: Int64,
        bytes: Int64,
        actor: String = "recovery",
        details: [String: String] = [:],
        at: Date = Date()
    ) throws(CatalogError) -> AuditEntry {
        try closeRecoveredRecording(
            id: id, state: .interrupted, durationMs: durationMs, bytes: bytes, actor: actor, details: details,
            transcriptionEngine: nil, at: at
        ).entry
    }

    /// Closes a recording that a crash left in state `recording`: its new state (`interrupted`, or
    /// `complete` when its file was sealed to the end before the crash), the `recording.recovered`
    /// audit entry and, with `transcriptionEngine`, its call's transcription job — one transaction,
    /// so a crash during recovery leaves the row for the next recovery, never a half-closed recording.
    /// - Returns: the audit entry and the job (queued now or before), if one was asked for.
    @discardableResult
    public func closeRecoveredRecording(
        id: String,
        state: RecordingState,
        durationMs: Int64,
        bytes: Int64,
        actor: String = "recovery",
        details: [String: String] = [:],
        transcriptionEngine: String?,
        at: Date = Date()
    ) throws(CatalogError) -> (entry: AuditEntry, job: JobRecord?) {
        guard state == .interrupted || state == .complete else {
            throw CatalogError(.invalidArgument, "a recovered recording ends complete or interrupted, not \(state.rawValue)")
        }
        let at = at.catalogPrecision
        return try write { db in
            let recording = try Self.closeOpenRecording(db, id: id, state: state, durationMs: durationMs, bytes: bytes)
            var entryDetails = details
            entryDetails["durationMs"] = String(durationMs)
            entryDetails["bytes"] = String(bytes)
            entryDetails["state"] = state.rawValue
            let entry = try AuditLog.append(
                in: db,
                actor: actor,
                action: .recordingRecovered,
                tenantID: recording.tenantId,
                subjectID: id,
                details: entryDetails,
                at: at
            )
            let job = try transcriptionEngine.map { engine in
                try Self.insertJob(db, callID: recording.callId, recordingID: id, engine: engine, at: at)
            }
            return (entry, job)
        }
    }

    /// Queues a transcription job for every call that has a finished recording with audio but no job
    /// at all: the state an older build left when it crashed between marking a recording complete
    /// and queueing its job (two transactions then). Shredded recordings are skipped. Idempotent.
    /// - Returns: the calls that got a job now.
    @discardableResult
    public func queueMissingTranscriptionJobs(engine: String, at: Date = Date()) throws(CatalogError) -> [String] {
        let at = at.catalogPrecision
        return try write { db in
            let orphans = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.call_id AS call_id, MIN(r.id) AS recording_id FROM recordings r
                    WHERE (r.state = 'complete' OR (r.state = 'interrupted' AND r.duration_ms > 0))
                      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.call_id = r.call_id)
                    GROUP BY r.call_id
                    """)
            var queued: [String] = []
            for row in orphans {
                let callID: String = row["call_id"]
                let recordingID: String = row["recording_id"]
                let job = try Self.insertJob(db, callID: callID, recordingID: recordingID, engine: engine, at: at)
                try AuditLog.append(
                    in: db, actor: "recovery", action: .jobRepaired, tenantID: job.tenantId, subjectID: callID,
                    details: ["recording": recordingID, "engine": engine], at: at)
                queued.append(callID)
            }
            return queued
        }
    }
}
