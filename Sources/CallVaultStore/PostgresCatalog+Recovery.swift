public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Recordings still marked `recording`, oldest first: after a crash, the ones start-up recovery must
    /// check, close and queue for transcription.
    public func recordingsLeftOpen() async throws(CatalogError) -> [RecordingRecord] {
        try await perform("list recordings left open", within: settings.longReadTimeout) {
            try await self.recordings(
                where: "WHERE state = 'recording' ORDER BY created_at, id COLLATE \"C\"", PostgresBindings())
        }
    }

    /// Marks a recording a crash left in state `recording` as `interrupted`, with its `recording.recovered`
    /// audit entry in the same transaction.
    public func markRecordingInterrupted(
        id: String, durationMs: Int64, bytes: Int64, actor: String, details: [String: String], at: Date
    ) async throws(CatalogError) -> AuditEntry {
        try await closeRecoveredRecording(
            id: id, state: .interrupted, durationMs: durationMs, bytes: bytes, actor: actor, details: details,
            transcriptionEngine: nil, at: at
        ).entry
    }

    /// Closes a recording a crash left in state `recording` (`interrupted`, or `complete` when its file was
    /// sealed to the end), with, in one transaction, its call's transcription job when `transcriptionEngine`
    /// is given (the queue's insert: once per call and engine) and the `recording.recovered` audit entry, last.
    public func closeRecoveredRecording(
        id: String, state: RecordingState, durationMs: Int64, bytes: Int64, actor: String,
        details: [String: String], transcriptionEngine: String?, at: Date
    ) async throws(CatalogError) -> (entry: AuditEntry, job: JobRecord?) {
        guard state == .interrupted || state == .complete else {
            throw CatalogError(.invalidArgument, "a recovered recording ends complete or interrupted, not \(state.rawValue)")
        }
        if let transcriptionEngine { try Self.checkEngine(transcriptionEngine) }
        let at = at.postgresPrecision
        var entryDetails = details
        entryDetails["durationMs"] = String(durationMs)
        entryDetails["bytes"] = String(bytes)
        entryDetails["state"] = state.rawValue
        let auditDetails = entryDetails
        let logger = self.logger
        let closed: (AuditEntry, JobRecord?) = try await transaction("recover recording \(id)") { connection in
            let (callID, tenantID) = try await Self.closeOpenRecording(
                on: connection, id: id, state: state, durationMs: durationMs, bytes: bytes, logger: logger)
            var job: JobRecord?
            if let transcriptionEngine {
                job = try await PostgresJobQueue.enqueue(
                    JobRequest(callID: callID, recordingID: id, tenantID: tenantID, engine: transcriptionEngine),
                    on: connection, logger: logger
                ).job
            }
            let entry = try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .recordingRecovered, tenantID: tenantID, subjectID: id, details: auditDetails,
                    at: at),
                on: connection)
            return (entry, job)
        }
        return (entry: closed.0, job: closed.1)
    }

    /// Queues a transcription job for every call that has a finished recording with audio but no job at all,
    /// live or archived (what an older build left when it crashed between completing a recording and queueing
    /// its job), each audited `job.repaired`, in one transaction. Shredded recordings are skipped. Idempotent.
    /// - Returns: the calls that got a job now.
    public func queueMissingTranscriptionJobs(engine: String, at: Date) async throws(CatalogError) -> [String] {
        let at = at.postgresPrecision
        let logger = self.logger
        return try await transaction("queue missing transcription jobs") { connection in
            // A recording's tenant is its call's (composite foreign key), so grouping by both is one group per call.
            var orphans: [(callID: String, recordingID: String, tenantID: String)] = []
            for try await row in try await connection.query(
                """
                SELECT r.call_id, min(r.id COLLATE "C"), r.tenant_id FROM recordings r
                WHERE (r.state = 'complete' OR (r.state = 'interrupted' AND r.duration_ms > 0))
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.call_id = r.call_id)
                  AND NOT EXISTS (SELECT 1 FROM job_archive a WHERE a.call_id = r.call_id)
                GROUP BY r.call_id, r.tenant_id
                ORDER BY r.call_id COLLATE "C"
                """, logger: logger
            ).decode((String, String, String).self) {
                orphans.append(row)
            }
            guard !orphans.isEmpty else { return [] }
            try Self.checkEngine(engine)
            // The jobs first, then their audit entries: the chain's head is locked from the first append to
            // the commit, so the appends come last.
            var queued: [(callID: String, recordingID: String, job: JobRecord)] = []
            for orphan in orphans {
                let job = try await PostgresJobQueue.enqueue(
                    JobRequest(
                        callID: orphan.callID, recordingID: orphan.recordingID, tenantID: orphan.tenantID, engine: engine),
                    on: connection, logger: logger
                ).job
                queued.append((orphan.callID, orphan.recordingID, job))
            }
            for item in queued {
                try await self.appendAudit(
                    AuditEvent(
                        actor: "recovery", action: .jobRepaired, tenantID: item.job.tenantId, subjectID: item.callID,
                        details: ["recording": item.recordingID, "engine": engine], at: at),
                    on: connection)
            }
            return queued.map(\.callID)
        }
    }
}
