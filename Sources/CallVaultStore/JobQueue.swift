public import CallVaultModel
public import Foundation

/// The durable transcription queue, whatever stores it: the embedded SQLite catalog
/// (``SQLiteJobQueue``) or a shared PostgreSQL database (``PostgresJobQueue``) that workers on many
/// machines claim from.
///
/// A worker claims jobs under a lease, renews it while it works, and finishes each job with the
/// ``JobLease`` its claim returned. The lease's attempt number is a fencing token: once a lease has
/// expired and another worker has claimed the job (a new attempt), the first worker's complete, fail or
/// postpone is refused with ``JobQueueError/Code/leaseLost`` instead of overwriting the newer attempt.
///
/// Async because a network database answers after a round trip and must not block an event loop; the
/// SQLite backend does its (short, local) GRDB transactions inline, as before. Times come from the
/// backend's clock: the process's for SQLite, the database server's for PostgreSQL (so nodes whose
/// clocks disagree still agree on when a lease has run out).
public protocol JobQueue: Sendable {
    /// Queues `request`'s job, once per call and engine: queuing the same pair again returns the job
    /// already queued, unchanged.
    func enqueue(_ request: JobRequest) async throws(JobQueueError) -> JobRecord

    /// Claims up to `limit` runnable jobs for `workerID`, most urgent first: jobs whose worker's lease
    /// expired (it died or stalled), then queued or failed jobs that are due, by priority, due time and
    /// age. Each claim starts a new attempt, and no two workers ever hold the same job.
    /// - Parameter engines: only jobs naming one of these engines (nil: any).
    func claim(workerID: String, engines: [String]?, limit: Int, lease: Duration) async throws(JobQueueError)
        -> [JobRecord]

    /// Extends a held lease by `duration` from now; false when it is no longer held (expired and
    /// claimed again, finished or cancelled): the worker must stop and drop its result.
    func renew(_ lease: JobLease, for duration: Duration) async throws(JobQueueError) -> Bool

    /// Marks a held job done; throws `leaseLost` when `lease` is not the job's current attempt.
    func complete(_ lease: JobLease) async throws(JobQueueError)

    /// Marks several held jobs done in one transaction (one round trip on PostgreSQL); returns how many
    /// were still held. A lease that is no longer the job's current attempt changes nothing.
    func complete(_ leases: [JobLease]) async throws(JobQueueError) -> Int

    /// Records a failed attempt: `failed` (due again after the policy's backoff) or, after the
    /// policy's last attempt, `dead`, keeping `error` (which must hold no transcript text or numbers).
    /// Throws `leaseLost` when `lease` is not the job's current attempt.
    func fail(_ lease: JobLease, error: String, policy: JobRetryPolicy) async throws(JobQueueError) -> JobState

    /// Puts a held job back to run at `until` without counting the attempt (it could not run yet).
    func postpone(_ lease: JobLease, until: Date) async throws(JobQueueError)

    /// Ends a job that must never run, with the reason; from any state but `done`.
    func cancel(jobID: String, reason: String) async throws(JobQueueError)

    /// Queues a dead, cancelled or failed job again now with a fresh attempt count.
    func retry(jobID: String) async throws(JobQueueError) -> JobRecord

    /// Jobs, oldest first, optionally only those in one state.
    func jobs(state: JobState?) async throws(JobQueueError) -> [JobRecord]

    /// The job with this id (archived ones included on PostgreSQL), or nil.
    func job(id: String) async throws(JobQueueError) -> JobRecord?

    /// A page of jobs, newest first, some tenants' in one state, after a keyset cursor (the console's
    /// jobs page; archived jobs included on PostgreSQL, as ``jobs(state:)``).
    func jobs(matching query: JobListQuery) async throws(JobQueueError) -> [JobRecord]

    /// How many jobs are in each state (states without jobs are absent).
    func counts() async throws(JobQueueError) -> [JobState: Int]

    /// Moves up to `limit` finished jobs (done, dead or cancelled) whose last change is at least
    /// `olderThan` ago (by the backend's clock) out of the live queue, in one short transaction, oldest
    /// first; returns how many moved. Call it again while it returns `limit`
    /// (``archiveAllFinishedJobs(olderThan:batch:)``).
    ///
    /// An archived job is still a job: ``jobs(state:)`` and ``counts()`` report it, ``retry(jobID:)``
    /// queues a dead or cancelled one again, ``cancel(jobID:reason:)`` ends a dead one, and queuing its call
    /// and engine again returns it. It only leaves the table claims work on. PostgreSQL moves it to
    /// `job_archive`, so the `jobs` table stays as small as the work in flight; SQLite keeps every job in
    /// place and returns 0 (it has no dead row versions to pile up, and the catalog's recovery relies on a
    /// call's finished jobs staying in `jobs`).
    func archiveFinishedJobs(olderThan: Duration, limit: Int) async throws(JobQueueError) -> Int

    /// Waits until a job may have been queued, at most `timeout`: true when woken early, false at the
    /// timeout. Only a hint to claim sooner than the next poll: a worker claims after every wait, woken
    /// or not, and polling finds every job even when a wake-up is lost. PostgreSQL: a notification sent
    /// by ``enqueue(_:)`` on any node (`LISTEN`/`NOTIFY`); SQLite: a look every 100 ms for a runnable job.
    func waitForWork(timeout: Duration) async throws(JobQueueError) -> Bool
}

extension JobQueue {
    /// Claims the most urgent runnable job, or nil when none is due.
    public func claimOne(workerID: String, engines: [String]? = nil, lease: Duration) async throws(JobQueueError)
        -> JobRecord?
    {
        try await claim(workerID: workerID, engines: engines, limit: 1, lease: lease).first
    }

    /// Archives every finished job at least `olderThan` old, `batch` at a time (each batch its own short
    /// transaction, so claims never wait long behind it); returns how many moved.
    public func archiveAllFinishedJobs(olderThan: Duration, batch: Int = 1000) async throws(JobQueueError) -> Int {
        var total = 0
        while true {
            let moved = try await archiveFinishedJobs(olderThan: olderThan, limit: batch)
            total += moved
            if moved < batch { return total }
        }
    }
}

enum JobQueueArguments {
    /// Refuses a negative age or a limit below 1.
    static func checkArchive(olderThan: Duration, limit: Int) throws(JobQueueError) {
        guard olderThan >= .zero else { throw JobQueueError(.invalidArgument, "an archive age cannot be negative") }
        guard limit > 0 else { throw JobQueueError(.invalidArgument, "an archive batch must hold at least one job") }
    }
}

/// What to queue: one transcription job for a call and engine.
public struct JobRequest: Sendable, Equatable {
    public var callID: String
    public var recordingID: String?
    /// The call's tenant (the SQLite backend checks it against the catalog's call).
    public var tenantID: String
    public var engine: String
    public var priority: Int

    public init(callID: String, recordingID: String? = nil, tenantID: String, engine: String, priority: Int = 0) {
        self.callID = callID
        self.recordingID = recordingID
        self.tenantID = tenantID
        self.engine = engine
        self.priority = priority
    }
}

/// A worker's hold on one attempt of a job: what it renews and finishes the job with.
public struct JobLease: Sendable, Hashable, CustomStringConvertible {
    public var jobID: String
    public var workerID: String
    /// The job's attempt number when it was claimed: the fencing token.
    public var attempt: Int

    public init(jobID: String, workerID: String, attempt: Int) {
        self.jobID = jobID
        self.workerID = workerID
        self.attempt = attempt
    }

    public var description: String { "job \(jobID) attempt \(attempt) (worker \(workerID))" }
}

extension JobRecord {
    /// The lease of a claimed job (as ``JobQueue/claim(workerID:engines:limit:lease:)`` returns it); nil
    /// for a job no worker holds.
    public var lease: JobLease? {
        guard state == .running, let leaseOwner else { return nil }
        return JobLease(jobID: id, workerID: leaseOwner, attempt: attempts)
    }
}

/// Why a queue operation failed, with a message that says what to do. Messages name the database (host,
/// port, database name) but never a password.
public struct JobQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The database cannot be reached, or refused the connection or its credentials.
        case unavailable
        /// No job (or call) with that id.
        case notFound
        /// A malformed argument (an empty engine name, a tenant that is not the call's).
        case invalidArgument
        /// The lease is not the job's current attempt: it expired and the job was claimed again, or it
        /// was finished or cancelled meanwhile. The worker must drop its result.
        case leaseLost
        /// The database's schema is newer than this binary knows: upgrade this node.
        case schemaTooNew
        /// The database refused or failed the operation.
        case databaseFailure
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
