public import CallVaultModel
public import Foundation
internal import GRDB

/// The job queue in the embedded SQLite catalog: the `jobs` table and its GRDB transactions
/// (`Catalog+JobQueue.swift`), behind the ``JobQueue`` interface.
///
/// Each operation is one short local write transaction, run inline as before (no event loop waits on
/// it for long). Jobs belong to calls of the catalog: a request naming an unknown call is refused.
public struct SQLiteJobQueue: JobQueue {
    public let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public func enqueue(_ request: JobRequest) async throws(JobQueueError) -> JobRecord {
        try run { () throws(CatalogError) in
            let tenant = try catalog.read { db in
                try String.fetchOne(db, sql: "SELECT tenant_id FROM calls WHERE id = ?", arguments: [request.callID])
            }
            guard let tenant else { throw CatalogError(.notFound, "no call with id \(request.callID)") }
            guard tenant == request.tenantID else {
                throw CatalogError(
                    .invalidArgument, "call \(request.callID) belongs to tenant \(tenant), not \(request.tenantID)")
            }
            return try catalog.enqueueJob(
                callID: request.callID, recordingID: request.recordingID, engine: request.engine,
                priority: request.priority)
        }
    }

    public func claim(workerID: String, engines: [String]?, limit: Int, lease: Duration) async throws(JobQueueError)
        -> [JobRecord]
    {
        try run { () throws(CatalogError) in
            if limit == 1 {
                return try catalog.claimJob(workerID: workerID, engines: engines, lease: lease).map { [$0] } ?? []
            }
            return try catalog.claimJobs(workerID: workerID, engines: engines, limit: limit, lease: lease)
        }
    }

    public func renew(_ lease: JobLease, for duration: Duration) async throws(JobQueueError) -> Bool {
        try run { () throws(CatalogError) in
            try catalog.heartbeat(jobID: lease.jobID, workerID: lease.workerID, attempt: lease.attempt, lease: duration)
        }
    }

    public func complete(_ lease: JobLease) async throws(JobQueueError) {
        try fenced(lease) { () throws(CatalogError) in
            try catalog.completeJob(jobID: lease.jobID, workerID: lease.workerID, attempt: lease.attempt)
        }
    }

    public func complete(_ leases: [JobLease]) async throws(JobQueueError) -> Int {
        try run { () throws(CatalogError) in
            try catalog.completeJobs(leases.map { ($0.jobID, $0.workerID, $0.attempt) })
        }
    }

    public func fail(_ lease: JobLease, error: String, policy: JobRetryPolicy) async throws(JobQueueError) -> JobState {
        try fenced(lease) { () throws(CatalogError) in
            try catalog.failJob(
                jobID: lease.jobID, workerID: lease.workerID, attempt: lease.attempt, error: error, policy: policy)
        }
    }

    public func postpone(_ lease: JobLease, until: Date) async throws(JobQueueError) {
        try fenced(lease) { () throws(CatalogError) in
            try catalog.deferJob(jobID: lease.jobID, workerID: lease.workerID, attempt: lease.attempt, until: until)
        }
    }

    public func cancel(jobID: String, reason: String) async throws(JobQueueError) {
        try run { () throws(CatalogError) in try catalog.cancelJob(jobID: jobID, reason: reason) }
    }

    public func retry(jobID: String) async throws(JobQueueError) -> JobRecord {
        try run { () throws(CatalogError) in try catalog.retryJob(jobID: jobID) }
    }

    public func jobs(state: JobState?) async throws(JobQueueError) -> [JobRecord] {
        try run { () throws(CatalogError) in try catalog.jobs(state: state) }
    }

    public func job(id: String) async throws(JobQueueError) -> JobRecord? {
        try run { () throws(CatalogError) in try catalog.read { db in try JobRow.fetchOne(db, key: id)?.record } }
    }

    public func jobs(matching query: JobListQuery) async throws(JobQueueError) -> [JobRecord] {
        try run { () throws(CatalogError) in try catalog.jobs(matching: query) }
    }

    public func counts() async throws(JobQueueError) -> [JobState: Int] {
        try run { () throws(CatalogError) in
            try catalog.read { db in
                var counts: [JobState: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                    let name: String = row["state"]
                    if let state = JobState(rawValue: name) { counts[state] = row["n"] }
                }
                return counts
            }
        }
    }

    /// Keeps finished jobs in place: returns 0. SQLite rewrites a changed row in place and reuses freed
    /// pages, so there are no dead row versions for an archive to keep down; one machine's `jobs` table
    /// grows by one row per call and engine; and the catalog's recovery (``Catalog/recordingsLeftOpen()``
    /// and the interrupted-recording job) and the one-job-per-call-and-engine rule read `jobs` itself.
    public func archiveFinishedJobs(olderThan: Duration, limit: Int) async throws(JobQueueError) -> Int {
        try JobQueueArguments.checkArchive(olderThan: olderThan, limit: limit)
        return 0
    }

    /// Looks every 100 ms for a job that can be claimed now (queued or failed and due, or a lease run out);
    /// true as soon as there is one, false after `timeout`. One process's SQLite file has no notifications
    /// to listen to; the look is one indexed read.
    public func waitForWork(timeout: Duration) async throws(JobQueueError) -> Bool {
        let until = ContinuousClock.now + timeout
        while true {
            let due = try run { () throws(CatalogError) in
                try catalog.read { db in
                    try Catalog.claimableIDs(db, engines: nil, limit: 1, now: Date().catalogPrecision).isEmpty == false
                }
            }
            if due { return true }
            let left = until - ContinuousClock.now
            guard left > .zero else { return false }
            do { try await Task.sleep(for: min(left, .milliseconds(100))) } catch { return false }
        }
    }

    /// Runs a catalog operation, turning its error into the queue's.
    private func run<T>(_ body: () throws(CatalogError) -> T) throws(JobQueueError) -> T {
        do { return try body() } catch { throw Self.queueError(error) }
    }

    /// Runs an operation on a held lease: the catalog's "not held" (`invalidArgument`) is a lost lease.
    private func fenced<T>(_ lease: JobLease, _ body: () throws(CatalogError) -> T) throws(JobQueueError) -> T {
        do { return try body() } catch {
            if error.code == .invalidArgument {
                throw JobQueueError(
                    .leaseLost, "\(lease) is no longer held (its lease expired and the job was claimed again, or it "
                        + "was finished or cancelled): drop the result")
            }
            throw Self.queueError(error)
        }
    }

    static func queueError(_ error: CatalogError) -> JobQueueError {
        switch error.code {
        case .unavailable: JobQueueError(.unavailable, error.message)
        case .notFound: JobQueueError(.notFound, error.message)
        case .invalidArgument, .invalidPolicy, .duplicate: JobQueueError(.invalidArgument, error.message)
        default: JobQueueError(.databaseFailure, error.message)
        }
    }
}
