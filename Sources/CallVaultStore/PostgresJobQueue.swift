public import CallVaultModel
public import Foundation
public import Logging
internal import PostgresNIO

/// The job queue in a shared PostgreSQL database, for workers on many machines.
///
/// Claims take rows with `SELECT … FOR UPDATE SKIP LOCKED` and mark them in the same statement (one
/// short implicit transaction; no transaction stays open while a job runs), so concurrent claimers
/// never wait on each other and never get the same job. Every finishing statement carries the lease's
/// owner and attempt number in its `WHERE` clause: a worker whose lease expired and whose job was
/// claimed again changes nothing (``JobQueueError/Code/leaseLost``). Lease times are the database
/// server's (`now()`), so nodes with skewed clocks agree on expiry.
///
/// Opening the queue applies its schema migrations once, under a PostgreSQL advisory lock, whichever node
/// starts first; a node whose binary is older than the database's schema refuses to run
/// (``JobQueueError/Code/schemaTooNew``). See `docs/store-postgres.md`.
public final class PostgresJobQueue: JobQueue {
    public let settings: PostgresStoreSettings
    private let pool: PostgresPool
    private var client: PostgresClient { pool.client }
    private var logger: Logger { pool.logger }

    /// Connects (a pool of up to `settings.maximumConnections`), waits for a first connection, and
    /// brings the schema to this binary's version. Call ``close()`` when done.
    public static func open(_ settings: PostgresStoreSettings, logger: Logger = Logger(label: "callvault.postgres"))
        async throws(JobQueueError) -> PostgresJobQueue
    {
        PostgresJobQueue(pool: try await PostgresPool.open(settings, logger: logger, doing: "open the job queue"))
    }

    private let wakeups: PostgresWakeups

    /// A queue on a pool another store opened (``PostgresCatalog`` shares one pool per node).
    init(pool: PostgresPool) {
        self.settings = pool.settings
        self.pool = pool
        self.wakeups = PostgresWakeups(pool: pool)
    }

    /// Closes the pool's connections (and the one listening for queued jobs). The queue cannot be used after.
    public func close() async {
        await wakeups.close()
        await pool.close()
    }

    /// Closes the connection listening for queued jobs, leaving the pool to its owner.
    func closeWakeups() async {
        await wakeups.close()
    }

    /// Whether this queue listens for queued jobs yet (started by the first ``waitForWork(timeout:)``).
    var isListeningForWork: Bool { wakeups.isListening }

    // MARK: - JobQueue

    public func enqueue(_ request: JobRequest) async throws(JobQueueError) -> JobRecord {
        try Self.checkEngine(request.engine)
        let logger = self.logger
        return try await perform("queue a job for call \(request.callID)") {
            try await self.client.withTransaction(logger: logger) { connection in
                try await Self.enqueue(request, on: connection, logger: logger).job
            }
        }
    }

    /// Refuses an engine name the `jobs` table would refuse, before anything is written.
    static func checkEngine(_ engine: String) throws(JobQueueError) {
        guard !engine.isEmpty, engine.utf8.count <= 100 else {
            throw JobQueueError(.invalidArgument, "an engine name must have 1 to 100 bytes")
        }
    }

    /// Queues `request`'s job on `connection`, inside the caller's transaction (``enqueue(_:)``'s own, or a
    /// catalog transaction that completes a recording), unless its call and engine have a job already, live
    /// or archived; with the wake-up for waiting workers, delivered when that transaction commits.
    ///
    /// One call and engine, one job, across both tables: the `jobs` key covers live jobs, and the insert
    /// skips a pair found in `job_archive`. That check alone has a gap: an archiver moving the pair's
    /// finished job commits after the insert's snapshot was taken, the insert waits for the row's lock,
    /// finds it deleted and goes ahead. So the insert looks in the archive once more afterwards, with a new
    /// snapshot (READ COMMITTED), which sees that archiver's commit, and then takes its row back out (the
    /// wake-up is sent only when the row stays).
    /// - Returns: the job, and whether it was queued now (false: the one queued before, live or archived).
    static func enqueue(_ request: JobRequest, on connection: PostgresConnection, logger: Logger) async throws
        -> (job: JobRecord, queued: Bool)
    {
        let id = UUID().uuidString.lowercased()
        let inserted = try await records(
            connection.query(
                """
                INSERT INTO jobs (id, call_id, recording_id, tenant_id, engine, state, priority, attempts,
                    run_after, created_at, updated_at)
                SELECT \(id), \(request.callID), \(request.recordingID), \(request.tenantID), \(request.engine),
                    'queued', \(request.priority), 0, now(), now(), now()
                WHERE NOT EXISTS (
                    SELECT 1 FROM job_archive WHERE call_id = \(request.callID) AND engine = \(request.engine))
                ON CONFLICT (call_id, engine) DO NOTHING
                RETURNING \(unescaped: Self.columns)
                """, logger: logger))
        if let job = inserted.first {
            // The second look and the wake-up in one statement: the archive check is a one-time filter, so
            // `pg_notify` runs only when the pair is still not archived (its payload is only the engine's
            // name; a rollback of the caller's transaction drops it).
            let kept = try await count(
                connection.query(
                    """
                    SELECT 1 FROM (SELECT pg_notify(\(PostgresWakeups.channel), \(request.engine))) AS notified
                    WHERE NOT EXISTS (
                        SELECT 1 FROM job_archive WHERE call_id = \(request.callID) AND engine = \(request.engine))
                    """, logger: logger))
            if kept == 1 { return (job, true) }
            try await connection.query("DELETE FROM jobs WHERE id = \(id)", logger: logger)
        }
        // The call and engine have a job already: live or archived (one statement, one snapshot, so a job
        // being archived meanwhile is seen in exactly one of the two tables).
        let existing = try await records(
            connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM jobs WHERE call_id = \(request.callID) AND engine = \(request.engine)
                UNION ALL
                SELECT \(unescaped: Self.columns) FROM job_archive
                WHERE call_id = \(request.callID) AND engine = \(request.engine)
                """,
                logger: logger))
        guard let job = existing.first else {
            throw JobQueueError(.databaseFailure, "the job for call \(request.callID) vanished while being queued")
        }
        return (job, false)
    }

    public func claim(workerID: String, engines: [String]?, limit: Int, lease: Duration) async throws(JobQueueError)
        -> [JobRecord]
    {
        guard limit > 0 else { return [] }
        let seconds = Self.seconds(lease)
        let anyEngine = engines?.isEmpty ?? true
        let names = engines ?? []
        return try await perform("claim jobs") {
            // First the jobs whose worker's lease ran out (it died or stalled), oldest expiry first.
            var expired: [(JobRecord, Date)] = []
            let rows = try await self.client.query(
                """
                WITH c AS (
                    SELECT id, lease_expires_at FROM jobs
                    WHERE state = 'running' AND lease_expires_at <= now() AND (\(anyEngine) OR engine = ANY(\(names)))
                    ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                UPDATE jobs j SET lease_owner = \(workerID), lease_expires_at = now() + make_interval(secs => \(seconds)),
                    attempts = j.attempts + 1, updated_at = now()
                FROM c WHERE j.id = c.id
                RETURNING \(unescaped: Self.columns(prefix: "j.")), c.lease_expires_at
                """, logger: self.logger)
            for try await row in rows { expired.append((try Self.record(row), try Self.trailingDate(row))) }
            expired.sort { $0.1 < $1.1 }
            if !expired.isEmpty { StoreMetrics.leaseExpiries.increment(by: expired.count) }
            var claimed = expired.map(\.0)
            guard claimed.count < limit else { return claimed }
            // Then queued or failed jobs that are due: by priority, due time, age.
            var due: [(JobRecord, Date)] = []
            let runnable = try await self.client.query(
                """
                WITH c AS (
                    SELECT id, run_after FROM jobs
                    WHERE state IN ('queued', 'failed') AND run_after <= now()
                        AND (\(anyEngine) OR engine = ANY(\(names)))
                    ORDER BY priority DESC, run_after, created_at LIMIT \(limit - claimed.count)
                    FOR UPDATE SKIP LOCKED)
                UPDATE jobs j SET state = 'running', lease_owner = \(workerID),
                    lease_expires_at = now() + make_interval(secs => \(seconds)), attempts = j.attempts + 1,
                    updated_at = now()
                FROM c WHERE j.id = c.id
                RETURNING \(unescaped: Self.columns(prefix: "j.")), c.run_after
                """, logger: self.logger)
            for try await row in runnable { due.append((try Self.record(row), try Self.trailingDate(row))) }
            // RETURNING has no order: put them back in the order they were picked.
            due.sort { a, b in
                if a.0.priority != b.0.priority { return a.0.priority > b.0.priority }
                if a.1 != b.1 { return a.1 < b.1 }
                return a.0.createdAt < b.0.createdAt
            }
            claimed += due.map(\.0)
            return claimed
        }
    }

    public func renew(_ lease: JobLease, for duration: Duration) async throws(JobQueueError) -> Bool {
        let seconds = Self.seconds(duration)
        return try await perform("renew the lease of \(lease)") {
            try await self.count(
                self.client.query(
                    """
                    UPDATE jobs SET lease_expires_at = now() + make_interval(secs => \(seconds)), updated_at = now()
                    WHERE id = \(lease.jobID) AND state = 'running' AND lease_owner = \(lease.workerID)
                        AND attempts = \(lease.attempt)
                    RETURNING id
                    """, logger: self.logger)) == 1
        }
    }

    public func complete(_ lease: JobLease) async throws(JobQueueError) {
        try await finish(lease, doing: "complete") {
            """
            UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
            WHERE id = \(lease.jobID) AND state = 'running' AND lease_owner = \(lease.workerID)
                AND attempts = \(lease.attempt)
            RETURNING id
            """
        }
    }

    public func complete(_ leases: [JobLease]) async throws(JobQueueError) -> Int {
        guard !leases.isEmpty else { return 0 }
        let ids = leases.map(\.jobID)
        let workers = leases.map(\.workerID)
        let attempts = leases.map(\.attempt)
        return try await perform("complete \(leases.count) jobs") {
            try await self.count(
                self.client.query(
                    """
                    UPDATE jobs j SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                    FROM unnest(\(ids)::text[], \(workers)::text[], \(attempts)::bigint[]) AS l(id, worker, attempt)
                    WHERE j.id = l.id AND j.state = 'running' AND j.lease_owner = l.worker AND j.attempts = l.attempt
                    RETURNING j.id
                    """, logger: self.logger))
        }
    }

    public func fail(_ lease: JobLease, error: String, policy: JobRetryPolicy) async throws(JobQueueError) -> JobState {
        let state: JobState = lease.attempt >= policy.maximumAttempts ? .dead : .failed
        let delay = policy.delaySeconds(afterAttempt: lease.attempt, random: Double.random(in: 0..<1))
        let message = String(error.prefix(1000))
        let logger = self.logger
        // A transaction: the job's `transcript.failed` or `job.dead` webhook event commits with it.
        let changed = try await perform("fail \(lease)") {
            try await self.client.withTransaction(logger: logger) { connection in
                var failed: (String, String, String)?
                for try await row in try await connection.query(
                    """
                    UPDATE jobs SET state = \(state.rawValue), last_error = \(message), lease_owner = NULL,
                        lease_expires_at = NULL, run_after = now() + make_interval(secs => \(delay)), updated_at = now()
                    WHERE id = \(lease.jobID) AND state = 'running' AND lease_owner = \(lease.workerID)
                        AND attempts = \(lease.attempt)
                    RETURNING call_id, tenant_id, engine
                    """, logger: logger
                ).decode((String, String, String).self) {
                    failed = row
                }
                guard let (callID, tenantID, engine) = failed else { return false }
                try await PostgresCatalog.enqueueWebhook(
                    .jobFailed(
                        jobID: lease.jobID, callID: callID, tenantID: tenantID, engine: engine, attempts: lease.attempt,
                        dead: state == .dead),
                    on: connection, at: Date(), logger: logger)
                return true
            }
        }
        guard changed else {
            throw JobQueueError(
                .leaseLost,
                "\(lease) is no longer held (its lease expired and the job was claimed again, or it was finished or "
                    + "cancelled): drop the result")
        }
        return state
    }

    public func postpone(_ lease: JobLease, until: Date) async throws(JobQueueError) {
        try await finish(lease, doing: "postpone") {
            """
            UPDATE jobs SET state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
                lease_expires_at = NULL, run_after = \(until), updated_at = now()
            WHERE id = \(lease.jobID) AND state = 'running' AND lease_owner = \(lease.workerID)
                AND attempts = \(lease.attempt)
            RETURNING id
            """
        }
    }

    public func cancel(jobID: String, reason: String) async throws(JobQueueError) {
        let reason = String(reason.prefix(1000))
        let changed = try await perform("cancel job \(jobID)") {
            // Live, or archived (a dead job there becomes cancelled); a job is in one table at a time.
            try await self.count(
                self.client.query(
                    """
                    WITH live AS (
                        UPDATE jobs SET state = 'cancelled', last_error = \(reason), lease_owner = NULL,
                            lease_expires_at = NULL, updated_at = now()
                        WHERE id = \(jobID) AND state <> 'done'
                        RETURNING id),
                    archived AS (
                        UPDATE job_archive SET state = 'cancelled', last_error = \(reason), updated_at = now()
                        WHERE id = \(jobID) AND state <> 'done'
                        RETURNING id)
                    SELECT id FROM live UNION ALL SELECT id FROM archived
                    """, logger: self.logger))
        }
        guard changed == 1 else { throw JobQueueError(.invalidArgument, "job \(jobID) is unknown or already done") }
    }

    public func retry(jobID: String) async throws(JobQueueError) -> JobRecord {
        let jobs = try await perform("retry job \(jobID)") {
            // Live: queued again in place. Archived (dead or cancelled): moved back into `jobs`, queued, in the
            // same statement, so it is never in both tables nor in neither.
            try await self.records(
                self.client.query(
                    """
                    WITH live AS (
                        UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), updated_at = now()
                        WHERE id = \(jobID) AND state IN ('dead', 'cancelled', 'failed')
                        RETURNING \(unescaped: Self.columns)),
                    back AS (
                        DELETE FROM job_archive WHERE id = \(jobID) AND state IN ('dead', 'cancelled')
                        RETURNING \(unescaped: Self.columns)),
                    requeued AS (
                        INSERT INTO jobs (id, call_id, recording_id, tenant_id, engine, state, priority, attempts,
                            run_after, last_error, created_at, updated_at)
                        SELECT id, call_id, recording_id, tenant_id, engine, 'queued', priority, 0, now(), last_error,
                            created_at, now()
                        FROM back
                        RETURNING \(unescaped: Self.columns))
                    SELECT \(unescaped: Self.columns) FROM live UNION ALL SELECT \(unescaped: Self.columns) FROM requeued
                    """, logger: self.logger))
        }
        guard let job = jobs.first else {
            throw JobQueueError(.invalidArgument, "job \(jobID) is unknown, or not dead, cancelled or failed")
        }
        return job
    }

    /// Live and archived jobs alike (one statement, so one snapshot: a job being archived meanwhile is
    /// listed once).
    public func jobs(state: JobState?) async throws(JobQueueError) -> [JobRecord] {
        try await perform("list jobs", within: settings.longReadTimeout) {
            let name = state?.rawValue
            return try await self.records(
                self.client.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM jobs WHERE \(name)::text IS NULL OR state = \(name)
                    UNION ALL
                    SELECT \(unescaped: Self.columns) FROM job_archive WHERE \(name)::text IS NULL OR state = \(name)
                    ORDER BY created_at, id
                    """,
                    logger: self.logger))
        }
    }

    public func job(id: String) async throws(JobQueueError) -> JobRecord? {
        try await perform("read job \(id)") {
            try await self.records(
                self.client.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM jobs WHERE id = \(id)
                    UNION ALL
                    SELECT \(unescaped: Self.columns) FROM job_archive WHERE id = \(id)
                    """,
                    logger: self.logger)
            ).first
        }
    }

    public func jobs(matching query: JobListQuery) async throws(JobQueueError) -> [JobRecord] {
        if query.tenantIDs?.isEmpty == true || query.limit <= 0 { return [] }
        return try await perform("list jobs") {
            let name = query.state?.rawValue
            let tenants = query.tenantIDs
            // As stored (now(): microseconds), passed as whole microseconds since 1970 so that no float
            // rounding of a Date moves the cursor off its job.
            let micros = query.after.map { Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()) }
            let id = query.after?.id
            // Each side reads its own index newest first up to the limit; the union is cut to the page.
            return try await self.records(
                self.client.query(
                    """
                    SELECT * FROM (
                        (SELECT \(unescaped: Self.columns) FROM jobs
                        WHERE (\(name)::text IS NULL OR state = \(name)) AND (\(tenants == nil) OR tenant_id = ANY(\(tenants ?? [])))
                        AND (\(micros)::bigint IS NULL OR (created_at, id COLLATE "C")
                            < (timestamptz 'epoch' + \(micros)::bigint * interval '1 microsecond', \(id) COLLATE "C"))
                        ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT \(Int64(query.limit)))
                        UNION ALL
                        (SELECT \(unescaped: Self.columns) FROM job_archive
                        WHERE (\(name)::text IS NULL OR state = \(name)) AND (\(tenants == nil) OR tenant_id = ANY(\(tenants ?? [])))
                        AND (\(micros)::bigint IS NULL OR (created_at, id COLLATE "C")
                            < (timestamptz 'epoch' + \(micros)::bigint * interval '1 microsecond', \(id) COLLATE "C"))
                        ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT \(Int64(query.limit)))
                    ) j
                    ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT \(Int64(query.limit))
                    """,
                    logger: self.logger))
        }
    }

    /// Live and archived jobs alike.
    public func counts() async throws(JobQueueError) -> [JobState: Int] {
        try await perform("count jobs") {
            var counts: [JobState: Int] = [:]
            let rows = try await self.client.query(
                """
                SELECT state, sum(n)::bigint FROM (
                    SELECT state, count(*) AS n FROM jobs GROUP BY state
                    UNION ALL
                    SELECT state, count(*) AS n FROM job_archive GROUP BY state) c
                GROUP BY state
                """, logger: self.logger)
            for try await (name, count) in rows.decode((String, Int).self) {
                if let state = JobState(rawValue: name) { counts[state] = count }
            }
            return counts
        }
    }

    /// Moves finished jobs into `job_archive`: one statement (so one short transaction), the oldest first,
    /// rows another archiver holds skipped (`SKIP LOCKED`), each job deleted and inserted together.
    public func archiveFinishedJobs(olderThan: Duration, limit: Int) async throws(JobQueueError) -> Int {
        try JobQueueArguments.checkArchive(olderThan: olderThan, limit: limit)
        let seconds = Self.seconds(olderThan)
        return try await perform("archive finished jobs") {
            try await self.count(
                self.client.query(
                    """
                    WITH picked AS (
                        SELECT id FROM jobs
                        WHERE state IN ('done', 'dead', 'cancelled') AND updated_at <= now() - make_interval(secs => \(seconds))
                        ORDER BY updated_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                    moved AS (
                        DELETE FROM jobs j USING picked WHERE j.id = picked.id
                        RETURNING \(unescaped: Self.columns(prefix: "j.")))
                    INSERT INTO job_archive (\(unescaped: Self.columns)) SELECT \(unescaped: Self.columns) FROM moved
                    RETURNING id
                    """, logger: self.logger))
        }
    }

    /// Waits for a notification from an ``enqueue(_:)`` on any node (`LISTEN callvault_jobs` on a
    /// connection of this queue's own, made by the first wait), at most `timeout`. A hint only: claim after
    /// every wait.
    public func waitForWork(timeout: Duration) async throws(JobQueueError) -> Bool {
        await wakeups.wait(timeout: timeout)
    }

    // MARK: - Rows

    /// The `jobs` columns in ``JobRecord``'s order.
    static let columns = columns(prefix: "")

    static func columns(prefix: String) -> String {
        [
            "id", "call_id", "recording_id", "tenant_id", "engine", "state", "priority", "attempts", "lease_owner",
            "lease_expires_at", "run_after", "last_error", "created_at", "updated_at",
        ].map { prefix + $0 }.joined(separator: ", ")
    }

    static func record(_ row: PostgresRow) throws -> JobRecord {
        let cells = Array(row)
        func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type) throws -> T {
            try cells[index].decode(T.self, context: .default)
        }
        let stateName = try cell(5, String.self)
        guard let state = JobState(rawValue: stateName) else {
            throw JobQueueError(.databaseFailure, "a job has the unknown state '\(stateName)'")
        }
        return JobRecord(
            id: try cell(0, String.self), callId: try cell(1, String.self), recordingId: try cell(2, String?.self),
            tenantId: try cell(3, String.self), engine: try cell(4, String.self), state: state,
            priority: try cell(6, Int.self), attempts: try cell(7, Int.self), leaseOwner: try cell(8, String?.self),
            leaseExpiresAt: try cell(9, Date?.self), runAfter: try cell(10, Date.self),
            lastError: try cell(11, String?.self), createdAt: try cell(12, Date.self), updatedAt: try cell(13, Date.self))
    }

    /// The extra column a claim returns after the job's own (the ordering key it was picked by).
    private static func trailingDate(_ row: PostgresRow) throws -> Date {
        let cells = Array(row)
        return try cells[14].decode(Date.self, context: .default)
    }

    private func records(_ rows: PostgresRowSequence) async throws -> [JobRecord] {
        try await Self.records(rows)
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [JobRecord] {
        var records: [JobRecord] = []
        for try await row in rows { records.append(try record(row)) }
        return records
    }

    private func count(_ rows: PostgresRowSequence) async throws -> Int {
        try await Self.count(rows)
    }

    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Runs a fenced update (`… RETURNING id`) of a held job: no row changed means the lease is lost.
    private func finish(_ lease: JobLease, doing what: String, _ query: () -> PostgresQuery) async throws(JobQueueError)
    {
        let query = query()
        let changed = try await perform("\(what) \(lease)") {
            try await self.count(self.client.query(query, logger: self.logger))
        }
        guard changed == 1 else {
            throw JobQueueError(
                .leaseLost,
                "\(lease) is no longer held (its lease expired and the job was claimed again, or it was finished or "
                    + "cancelled): drop the result")
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    // MARK: - Errors

    /// Runs database work within the operation deadline (``PostgresStoreSettings/operationTimeout``, or
    /// `within`), turning any error into a ``JobQueueError`` that names the database.
    private func perform<T: Sendable>(
        _ what: String, within limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws(JobQueueError) -> T {
        do { return try await pool.run(what, within: limit, body) } catch { throw queueError(error, doing: what) }
    }

    func queueError(_ error: any Error, doing what: String) -> JobQueueError {
        PostgresErrors.queueError(error, doing: what, settings: settings)
    }
}

/// Turns postgres-nio's errors into messages that say what failed where and what to do, naming the
/// database by `postgres://USER@HOST:PORT/DB` (never a password, never a query's bound values).
enum PostgresErrors {
    static func queueError(_ error: any Error, doing what: String, settings: PostgresStoreSettings) -> JobQueueError {
        let target = settings.description
        if let error = error as? JobQueueError { return error }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError {
                return queueError(inner, doing: what, settings: settings)
            }
        }
        guard let error = error as? PSQLError else {
            // The pool's own error (its module is not imported here): after 15 s of failed connection
            // attempts its circuit breaker fails requests at once instead of queueing them.
            if String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError") {
                return JobQueueError(
                    .unavailable,
                    "cannot \(what): no connection to PostgreSQL at \(target) for a while (\(error)); is it running "
                        + "and reachable? the pool keeps reconnecting: try again once it is back")
            }
            return JobQueueError(.databaseFailure, "cannot \(what) on \(target): \(type(of: error))")
        }
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? "?"
            let message = info[.message] ?? "no message"
            switch state {
            case "3D000":
                return JobQueueError(
                    .unavailable,
                    "cannot \(what): database \(settings.database) does not exist on \(settings.host):\(settings.port) "
                        + "(create it: createdb -h \(settings.host) -p \(settings.port) -U \(settings.username) "
                        + "\(settings.database))")
            case "28P01", "28000":
                return JobQueueError(
                    .unavailable,
                    "cannot \(what): PostgreSQL at \(target) refused user \(settings.username) (\(message); check the "
                        + "password in PGPASSWORD or the password file, and pg_hba.conf)")
            case "57P01", "57P02", "57P03", "08000", "08003", "08006":
                return JobQueueError(
                    .unavailable, "cannot \(what): PostgreSQL at \(target) is shutting down or unavailable (\(message))")
            default:
                return JobQueueError(.databaseFailure, "cannot \(what) on \(target): \(message) (SQLSTATE \(state))")
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            let cause = error.underlying.map { ": \($0)" } ?? ""
            return JobQueueError(
                .unavailable, "cannot \(what): no connection to PostgreSQL at \(target)\(cause) (is it running and reachable?)")
        case .sslUnsupported:
            return JobQueueError(
                .unavailable, "cannot \(what): PostgreSQL at \(target) does not offer TLS, which the settings require")
        case .authMechanismRequiresPassword:
            return JobQueueError(
                .unavailable,
                "cannot \(what): PostgreSQL at \(target) wants a password for \(settings.username) and none was given "
                    + "(set PGPASSWORD or a password file)")
        default:
            return JobQueueError(.databaseFailure, "cannot \(what) on \(target): \(error.code)")
        }
    }
}
