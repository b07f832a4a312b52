public import CallVaultModel
public import Foundation
internal import GRDB

/// The durable transcription queue: claim with a lease, heartbeat, complete, fail with backoff,
/// dead-letter, cancel. Every step is one write transaction whose UPDATE re-checks its condition, so
/// several workers — threads or processes on one data directory — never hold the same job at once.
extension Catalog {
    /// Claims the most urgent runnable job for `workerID`: queued or failed and due, or running with an
    /// expired lease (its worker died). The lease lasts `lease`; renew it with ``heartbeat(jobID:workerID:lease:now:)``.
    /// - Parameter engines: only jobs naming one of these engines (nil: any).
    public func claimJob(workerID: String, engines: [String]? = nil, lease: Duration, now: Date = Date())
        throws(CatalogError) -> JobRecord?
    {
        let now = now.catalogPrecision
        let expires = now.addingTimeInterval(Double(lease.components.seconds)).catalogPrecision
        return try write { db in
            guard let id = try Self.claimableIDs(db, engines: engines, limit: 1, now: now).first else { return nil }
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                        updated_at = ?
                    WHERE id = ? AND ((state IN ('queued', 'failed') AND run_after <= ?)
                        OR (state = 'running' AND lease_expires_at <= ?))
                    """,
                arguments: [workerID, expires, now, id, now, now])
            guard db.changesCount == 1 else { return nil }
            return try JobRow.fetchOne(db, key: id)?.record
        }
    }

    /// Claims up to `limit` runnable jobs in one transaction, most urgent first: for workers that fetch
    /// ahead, and for throughput (each transaction is one WAL sync, which dominates a single claim).
    public func claimJobs(
        workerID: String, engines: [String]? = nil, limit: Int, lease: Duration, now: Date = Date()
    ) throws(CatalogError) -> [JobRecord] {
        guard limit > 0 else { return [] }
        let now = now.catalogPrecision
        let expires = now.addingTimeInterval(Double(lease.components.seconds)).catalogPrecision
        return try write { db in
            let ids = try Self.claimableIDs(db, engines: engines, limit: limit, now: now)
            let update = try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                        updated_at = ?
                    WHERE id = ?
                    """)
            for id in ids { try update.execute(arguments: [workerID, expires, now, id]) }
            // Inside one write transaction nothing else can have taken them between the SELECT and the UPDATEs.
            let order = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            return try JobRow.filter(ids.contains(JobRow.Columns.id)).fetchAll(db).map(\.record)
                .sorted { order[$0.id, default: 0] < order[$1.id, default: 0] }
        }
    }

    /// Marks several held jobs done in one transaction; returns how many were still held by `workerID`
    /// (a job whose lease expired and was taken by another is left to that worker).
    @discardableResult
    public func completeJobs(ids: [String], workerID: String, now: Date = Date()) throws(CatalogError) -> Int {
        try completeJobs(ids.map { ($0, workerID, nil) }, now: now)
    }

    /// Marks several held jobs done in one transaction, each fenced by its worker and (when given) its
    /// attempt number; returns how many were still held.
    @discardableResult
    public func completeJobs(_ leases: [(id: String, workerID: String, attempt: Int?)], now: Date = Date())
        throws(CatalogError) -> Int
    {
        guard !leases.isEmpty else { return 0 }
        let now = now.catalogPrecision
        return try write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                    WHERE id = ? AND state = 'running' AND lease_owner = ? AND (? IS NULL OR attempts = ?)
                    """)
            var done = 0
            for lease in leases {
                try update.execute(arguments: [now, lease.id, lease.workerID, lease.attempt, lease.attempt])
                done += db.changesCount
            }
            return done
        }
    }

    /// The ids of up to `limit` claimable jobs: first those whose worker died (lease expired), then the
    /// runnable ones by priority, due time and age. Each part walks its own partial index (v3), so the
    /// cost does not grow with the number of jobs waiting.
    static func claimableIDs(_ db: Database, engines: [String]?, limit: Int, now: Date) throws -> [String] {
        var filter = ""
        var engineArguments = StatementArguments()
        if let engines, !engines.isEmpty {
            filter = " AND engine IN (\(engines.map { _ in "?" }.joined(separator: ", ")))"
            engineArguments = StatementArguments(engines)
        }
        var ids = try String.fetchAll(
            db,
            sql: "SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at <= ?\(filter) ORDER BY lease_expires_at LIMIT ?",
            arguments: [now] + engineArguments + [limit])
        if !ids.isEmpty { StoreMetrics.leaseExpiries.increment(by: ids.count) }
        if ids.count < limit {
            ids += try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM jobs INDEXED BY jobs_runnable
                    WHERE state IN ('queued', 'failed') AND run_after <= ?\(filter)
                    ORDER BY priority DESC, run_after, created_at LIMIT ?
                    """,
                arguments: [now] + engineArguments + [limit - ids.count])
        }
        return ids
    }

    /// Extends a held lease; false if the worker lost it (expired and taken by another): stop working.
    /// - Parameter attempt: the claim's attempt number (``JobRecord/attempts``), a fencing token: when
    ///   given, a lease of an earlier attempt is refused even if the same worker id holds a newer one.
    public func heartbeat(
        jobID: String, workerID: String, attempt: Int? = nil, lease: Duration, now: Date = Date()
    ) throws(CatalogError) -> Bool {
        let now = now.catalogPrecision
        let expires = now.addingTimeInterval(Double(lease.components.seconds)).catalogPrecision
        return try write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET lease_expires_at = ?, updated_at = ?
                    WHERE id = ? AND state = 'running' AND lease_owner = ? AND (? IS NULL OR attempts = ?)
                    """,
                arguments: [expires, now, jobID, workerID, attempt, attempt])
            return db.changesCount == 1
        }
    }

    /// Marks a held job done. Throws `invalidArgument` if the worker no longer holds it (or, with
    /// `attempt`, no longer holds that attempt of it).
    public func completeJob(jobID: String, workerID: String, attempt: Int? = nil, now: Date = Date())
        throws(CatalogError)
    {
        try finish(jobID: jobID, workerID: workerID, attempt: attempt, state: .done, error: nil, runAfter: nil, now: now)
    }

    /// Records a failed attempt: back to the queue after a backoff, or `dead` after the policy's last
    /// attempt, keeping the error (which must not hold transcript text or numbers). Returns the new state.
    @discardableResult
    public func failJob(
        jobID: String, workerID: String, attempt: Int? = nil, error: String, policy: JobRetryPolicy = JobRetryPolicy(),
        now: Date = Date(), random: Double = Double.random(in: 0..<1)
    ) throws(CatalogError) -> JobState {
        let attempts = try read { db in try Int.fetchOne(db, sql: "SELECT attempts FROM jobs WHERE id = ?", arguments: [jobID]) }
        guard var attempts else { throw CatalogError(.notFound, "no job with id \(jobID)") }
        if let attempt { attempts = attempt }
        let state: JobState = attempts >= policy.maximumAttempts ? .dead : .failed
        let runAfter = now.addingTimeInterval(policy.delaySeconds(afterAttempt: attempts, random: random))
        try finish(
            jobID: jobID, workerID: workerID, attempt: attempt, state: state, error: String(error.prefix(1000)),
            runAfter: runAfter, now: now)
        return state
    }

    /// Puts a held job back without counting the attempt, to run again at `until`: it cannot run yet
    /// (a track of its call is still being recorded), which is not a failure.
    public func deferJob(jobID: String, workerID: String, attempt: Int? = nil, until: Date, now: Date = Date())
        throws(CatalogError)
    {
        let now = now.catalogPrecision
        try write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL,
                        lease_expires_at = NULL, run_after = ?, updated_at = ?
                    WHERE id = ? AND state = 'running' AND lease_owner = ? AND (? IS NULL OR attempts = ?)
                    """,
                arguments: [until.catalogPrecision, now, jobID, workerID, attempt, attempt])
            guard db.changesCount == 1 else {
                throw CatalogError(.invalidArgument, "job \(jobID) is not held by worker \(workerID) (its lease expired?)")
            }
        }
    }

    /// Puts a dead, cancelled or failed job back in the queue now with a fresh attempt count (an
    /// operator fixed the cause: installed a model, lifted a restriction). Throws for other states.
    @discardableResult
    public func retryJob(jobID: String, now: Date = Date()) throws(CatalogError) -> JobRecord {
        let now = now.catalogPrecision
        return try write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, updated_at = ?
                    WHERE id = ? AND state IN ('dead', 'cancelled', 'failed')
                    """,
                arguments: [now, now, jobID])
            guard db.changesCount == 1, let job = try JobRow.fetchOne(db, key: jobID)?.record else {
                throw CatalogError(.invalidArgument, "job \(jobID) is unknown, or not dead, cancelled or failed")
            }
            return job
        }
    }

    /// Ends a job that must not run (its recording was shredded or erased), with the reason; from any
    /// state but `done`.
    public func cancelJob(jobID: String, reason: String, now: Date = Date()) throws(CatalogError) {
        let now = now.catalogPrecision
        try write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'cancelled', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                        updated_at = ?
                    WHERE id = ? AND state != 'done'
                    """,
                arguments: [String(reason.prefix(1000)), now, jobID])
            guard db.changesCount == 1 else {
                throw CatalogError(.invalidArgument, "job \(jobID) is unknown or already done")
            }
        }
    }

    private func finish(
        jobID: String, workerID: String, attempt: Int?, state: JobState, error: String?, runAfter: Date?, now: Date
    ) throws(CatalogError) {
        let now = now.catalogPrecision
        try write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), lease_owner = NULL,
                        lease_expires_at = NULL, run_after = COALESCE(?, run_after), updated_at = ?
                    WHERE id = ? AND state = 'running' AND lease_owner = ? AND (? IS NULL OR attempts = ?)
                    """,
                arguments: [state.rawValue, error, runAfter?.catalogPrecision, now, jobID, workerID, attempt, attempt])
            guard db.changesCount == 1 else {
                throw CatalogError(.invalidArgument, "job \(jobID) is not held by worker \(workerID) (its lease expired?)")
            }
            if state == .failed || state == .dead, let job = try JobRow.fetchOne(db, key: jobID)?.record {
                try Self.enqueueWebhook(
                    .jobFailed(
                        jobID: jobID, callID: job.callId, tenantID: job.tenantId, engine: job.engine, attempts: job.attempts,
                        dead: state == .dead),
                    in: db, at: now)
            }
        }
    }
}
