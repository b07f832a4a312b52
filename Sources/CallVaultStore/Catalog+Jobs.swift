public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Queues a transcription job for a call and engine, once: queuing the same pair again returns
    /// the existing job unchanged (jobs are idempotent per call and engine). The queue's leasing,
    /// retries and dead-lettering belong to the transcription worker.
    @discardableResult
    public func enqueueJob(
        callID: String,
        recordingID: String? = nil,
        engine: String,
        priority: Int = 0,
        at: Date = Date()
    ) throws(CatalogError) -> JobRecord {
        guard !engine.isEmpty, engine.utf8.count <= 100 else {
            throw CatalogError(.invalidArgument, "an engine name must have 1 to 100 bytes")
        }
        let at = at.catalogPrecision
        return try write { db in
            try Self.insertJob(db, callID: callID, recordingID: recordingID, engine: engine, priority: priority, at: at)
        }
    }

    /// Queues a call's job inside the caller's transaction, or returns the one already queued for
    /// this call and engine, so a state change and the work it causes commit together.
    static func insertJob(
        _ db: Database, callID: String, recordingID: String?, engine: String, priority: Int = 0, at: Date
    ) throws -> JobRecord {
        guard !engine.isEmpty, engine.utf8.count <= 100 else {
            throw CatalogError(.invalidArgument, "an engine name must have 1 to 100 bytes")
        }
        guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
            throw CatalogError(.notFound, "no call with id \(callID)")
        }
        let existing =
            try JobRow
            .filter(JobRow.Columns.callId == callID && JobRow.Columns.engine == engine)
            .fetchOne(db)?.record
        if let existing { return existing }
        let job = JobRecord(
            id: Self.newID(),
            callId: callID,
            recordingId: recordingID,
            tenantId: call.tenantId,
            engine: engine,
            priority: priority,
            runAfter: at,
            createdAt: at,
            updatedAt: at
        )
        try JobRow(job).insert(db)
        return job
    }

    /// Queues many jobs in one transaction (a backfill: every call again for a new engine); pairs already
    /// queued are skipped. Returns how many were new.
    @discardableResult
    public func enqueueJobs(_ requests: [(callID: String, engine: String)], priority: Int = 0, at: Date = Date())
        throws(CatalogError) -> Int
    {
        for request in requests where request.engine.isEmpty || request.engine.utf8.count > 100 {
            throw CatalogError(.invalidArgument, "an engine name must have 1 to 100 bytes")
        }
        let at = at.catalogPrecision
        return try write { db in
            let tenant = try db.cachedStatement(sql: "SELECT tenant_id FROM calls WHERE id = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO jobs (id, call_id, tenant_id, engine, state, priority, attempts, run_after,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)
                    """)
            var added = 0
            for request in requests {
                guard let tenantID = try String.fetchOne(tenant, arguments: [request.callID]) else {
                    throw CatalogError(.notFound, "no call with id \(request.callID)")
                }
                try insert.execute(arguments: [Self.newID(), request.callID, tenantID, request.engine, priority, at, at, at])
                added += db.changesCount
            }
            return added
        }
    }

    /// Jobs, oldest first, optionally only those in one state.
    public func jobs(state: JobState? = nil) throws(CatalogError) -> [JobRecord] {
        try read { db in
            var request = JobRow.order(JobRow.Columns.createdAt, JobRow.Columns.id)
            if let state { request = request.filter(JobRow.Columns.state == state.rawValue) }
            return try request.fetchAll(db).map(\.record)
        }
    }

    /// A page of jobs, newest first, after a keyset cursor, with the tenant and state filters in SQL
    /// (indexes `jobs_by_created`, `jobs_by_tenant_created`).
    public func jobs(matching query: JobListQuery) throws(CatalogError) -> [JobRecord] {
        if query.tenantIDs?.isEmpty == true || query.limit <= 0 { return [] }
        return try read { db in
            var request = JobRow.order(JobRow.Columns.createdAt.desc, JobRow.Columns.id.desc).limit(query.limit)
            if let tenantIDs = query.tenantIDs { request = request.filter(tenantIDs.contains(JobRow.Columns.tenantId)) }
            if let state = query.state { request = request.filter(JobRow.Columns.state == state.rawValue) }
            if let after = query.after {
                let at = after.createdAt.catalogPrecision
                request = request.filter(
                    JobRow.Columns.createdAt < at || (JobRow.Columns.createdAt == at && JobRow.Columns.id < after.id))
            }
            return try request.fetchAll(db).map(\.record)
        }
    }

    /// Recordings still marked `recording`: after a crash, the ones start-up recovery must check,
    /// mark `interrupted` and queue for transcription.
    public func recordingsLeftOpen() throws(CatalogError) -> [RecordingRecord] {
        try read { db in
            try RecordingRow.filter(RecordingRow.Columns.state == RecordingState.recording.rawValue)
                .order(RecordingRow.Columns.createdAt).fetchAll(db).map(\.record)
        }
    }
}
