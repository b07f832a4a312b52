public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Sets or clears a recording's legal hold, audited `hold.set` / `hold.cleared` in the same transaction.
    /// A held recording is never listed by ``expiredRecordings(asOf:)``; a shredded one cannot be held.
    public func setHold(recordingID: String, held: Bool, reason: String?, actor: String, at: Date)
        async throws(CatalogError) -> RecordingRecord
    {
        if let reason, reason.count > 500 {
            throw CatalogError(.invalidArgument, "a hold reason may have at most 500 characters")
        }
        let at = at.postgresPrecision
        let holdReason = held ? reason : nil
        return try await transaction("\(held ? "hold" : "release") recording \(recordingID)") { connection in
            guard var recording = try await self.lockedRecording(recordingID, on: connection) else {
                throw CatalogError(.notFound, "no recording with id \(recordingID)")
            }
            guard recording.state != .shredded else {
                throw CatalogError(.invalidArgument, "recording \(recordingID) is already shredded; a hold cannot help")
            }
            try await connection.query(
                "UPDATE recordings SET hold = \(held), hold_reason = \(holdReason) WHERE id = \(recordingID)",
                logger: self.logger)
            recording.hold = held
            recording.holdReason = holdReason
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: held ? .holdSet : .holdCleared, tenantID: recording.tenantId,
                    subjectID: recordingID, details: reason.map { ["reason": $0] } ?? [:], at: at),
                on: connection)
            return recording
        }
    }

    /// The recording with this id, its row locked until the transaction ends; nil if there is none.
    private func lockedRecording(_ id: String, on connection: PostgresConnection) async throws -> RecordingRecord? {
        try await recordings(
            connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.recordingColumns) FROM recordings WHERE id = $1 FOR UPDATE",
                    binds: try Self.binds(id)),
                logger: logger)
        ).first
    }

    /// Recordings whose voice retention has ended at `now`, not held and not yet shredded, oldest expiry
    /// first: what the sweeper must shred.
    public func expiredRecordings(asOf now: Date) async throws(CatalogError) -> [RecordingRecord] {
        try await perform("list expired recordings", within: settings.longReadTimeout) {
            try await self.recordings(
                where: """
                    WHERE state <> 'shredded' AND NOT hold AND expires_at <= $1 ORDER BY expires_at, id COLLATE "C"
                    """, try Self.binds(now))
        }
    }

    /// Marks a recording shredded (after its keys were destroyed and its file deleted), audited in the same
    /// transaction. Marking it twice is refused, so each shredding is recorded once; a held one is refused.
    public func markRecordingShredded(id: String, actor: String, at: Date) async throws(CatalogError) {
        let at = at.postgresPrecision
        try await transaction("mark recording \(id) shredded") { connection in
            guard let recording = try await self.lockedRecording(id, on: connection) else {
                throw CatalogError(.notFound, "no recording with id \(id)")
            }
            guard recording.state != .shredded else {
                throw CatalogError(.invalidArgument, "recording \(id) is already shredded")
            }
            guard !recording.hold else {
                throw CatalogError(.invalidArgument, "recording \(id) is on legal hold; clear the hold first")
            }
            try await connection.query(
                "UPDATE recordings SET state = 'shredded', shredded_at = \(at) WHERE id = \(id)", logger: self.logger)
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .recordingShredded, tenantID: recording.tenantId, subjectID: id,
                    details: ["expiresAt": AuditLog.canonicalTime(recording.expiresAt)], at: at),
                on: connection)
        }
    }

    /// Marks many recordings shredded in one transaction: one statement for the rows (locked in id order, so
    /// two overlapping batches never deadlock), then one audit entry per recording marked, in the order
    /// given. Recordings already shredded, held or missing are skipped (a resumed sweep may see some twice).
    /// - Parameter reason: `expired` (the sweeper) or `erased` (a data subject's request), kept in the entry.
    /// - Returns: how many were marked now.
    public func markRecordingsShredded(ids: [String], actor: String, reason: String, at: Date)
        async throws(CatalogError) -> Int
    {
        guard !ids.isEmpty else { return 0 }
        let at = at.postgresPrecision
        return try await transaction("mark \(ids.count) recordings shredded") { connection in
            var marked: [String: (tenantID: String, expiresAt: Date)] = [:]
            for try await (id, tenantID, expiresAt) in try await connection.query(
                """
                WITH picked AS (
                    SELECT id FROM recordings WHERE id = ANY(\(ids)) AND state <> 'shredded' AND NOT hold
                    ORDER BY id COLLATE "C" FOR UPDATE)
                UPDATE recordings r SET state = 'shredded', shredded_at = \(at) FROM picked WHERE r.id = picked.id
                RETURNING r.id, r.tenant_id, r.expires_at
                """, logger: self.logger
            ).decode((String, String, Date).self) {
                marked[id] = (tenantID, expiresAt.postgresPrecision)
            }
            var audited: Set<String> = []
            for id in ids where !audited.contains(id) {
                guard let row = marked[id] else { continue }
                audited.insert(id)
                try await self.appendAudit(
                    AuditEvent(
                        actor: actor, action: .recordingShredded, tenantID: row.tenantID, subjectID: id,
                        details: ["expiresAt": AuditLog.canonicalTime(row.expiresAt), "reason": reason], at: at),
                    on: connection)
            }
            return marked.count
        }
    }

    /// Transcripts whose retention has ended at `now` and are not yet shredded, oldest expiry first.
    public func expiredTranscripts(asOf now: Date) async throws(CatalogError) -> [TranscriptRecord] {
        try await perform("list expired transcripts", within: settings.longReadTimeout) {
            try await self.transcriptRecords(
                where: "WHERE state <> 'shredded' AND expires_at <= $1 ORDER BY expires_at, id COLLATE \"C\"",
                try Self.binds(now))
        }
    }

    /// Marks transcripts shredded in one transaction, as ``markRecordingsShredded(ids:actor:reason:at:)`` does
    /// recordings: one statement, then one `transcript.shredded` entry per transcript marked, in the order
    /// given. Already shredded or missing ones are skipped.
    /// - Returns: how many were marked now.
    public func markTranscriptsShredded(ids: [String], actor: String, reason: String, at: Date)
        async throws(CatalogError) -> Int
    {
        guard !ids.isEmpty else { return 0 }
        let at = at.postgresPrecision
        return try await transaction("mark \(ids.count) transcripts shredded") { connection in
            var marked: [String: String] = [:]
            for try await (id, tenantID) in try await connection.query(
                """
                WITH picked AS (
                    SELECT id FROM transcripts WHERE id = ANY(\(ids)) AND state <> 'shredded'
                    ORDER BY id COLLATE "C" FOR UPDATE)
                UPDATE transcripts t SET state = 'shredded', shredded_at = \(at) FROM picked WHERE t.id = picked.id
                RETURNING t.id, t.tenant_id
                """, logger: self.logger
            ).decode((String, String).self) {
                marked[id] = tenantID
            }
            var audited: Set<String> = []
            for id in ids where !audited.contains(id) {
                guard let tenantID = marked[id] else { continue }
                audited.insert(id)
                try await self.appendAudit(
                    AuditEvent(
                        actor: actor, action: "transcript.shredded", tenantID: tenantID, subjectID: id,
                        details: ["reason": reason], at: at),
                    on: connection)
            }
            return marked.count
        }
    }

    /// Every recording of these calls (any state), in call and track order: what a data subject's export or
    /// erasure covers.
    public func recordings(inCalls callIDs: [String]) async throws(CatalogError) -> [RecordingRecord] {
        guard !callIDs.isEmpty else { return [] }
        return try await perform("list the recordings of \(callIDs.count) calls", within: settings.longReadTimeout) {
            try await self.recordings(
                where: """
                    WHERE call_id = ANY($1) ORDER BY call_id COLLATE "C", track COLLATE "C", created_at
                    """, try Self.binds(callIDs))
        }
    }

    /// Every transcript of these calls (any state), in call order.
    public func transcripts(inCalls callIDs: [String]) async throws(CatalogError) -> [TranscriptRecord] {
        guard !callIDs.isEmpty else { return [] }
        return try await perform("list the transcripts of \(callIDs.count) calls", within: settings.longReadTimeout) {
            try await self.transcriptRecords(
                where: "WHERE call_id = ANY($1) ORDER BY call_id COLLATE \"C\", created_at", try Self.binds(callIDs))
        }
    }
}
