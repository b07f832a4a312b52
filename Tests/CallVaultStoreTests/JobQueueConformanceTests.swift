import CallVaultModel
import CallVaultTestSupport
import Foundation
import Synchronization
import Testing

@testable import CallVaultStore

/// A backend of ``JobQueue``, for tests parameterised by backend.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Both backends, or only SQLite when PostgreSQL is missing and `CALLVAULT_SKIP_SERVICES=1` (then
    /// ``PostgresJobQueueTests`` shows as skipped, with the reason).
    static var all: [Backend] { PostgresServer.canRunOrMustFail ? [.sqlite, .postgres] : [.sqlite] }
}

/// A queue under test on a fresh store of one backend, and a way to make calls for its jobs.
struct QueueFixture: Sendable {
    let backend: Backend
    let queue: any JobQueue
    /// A new call (SQLite: a row of the catalog; PostgreSQL: the queue takes any id) and its tenant.
    let newCall: @Sendable () throws -> (callID: String, tenantID: String)
    /// Queues `count` jobs at once, outside the interface (for measurements).
    let bulkEnqueue: @Sendable (_ count: Int) throws -> Void
    /// The PostgreSQL database's name (nil for SQLite), for measurements that look inside.
    let postgresDatabase: String?
    /// The SQLite catalog file (nil for PostgreSQL), for measurements that look inside.
    var sqliteCatalogPath: String? = nil
    let tearDown: @Sendable () async -> Void

    static func make(_ backend: Backend, maximumConnections: Int = 10) async throws -> QueueFixture {
        switch backend {
        case .sqlite:
            let directory = try CatalogTestDirectory()
            let catalog = try Catalog(directory: directory.path)
            let tenant = try catalog.addTenant(name: "conformance").tenant
            let counter = Mutex(0)
            return QueueFixture(
                backend: backend, queue: SQLiteJobQueue(catalog: catalog),
                newCall: {
                    let index = counter.withLock { value in
                        value += 1
                        return value
                    }
                    let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA\(index)", startedAt: Date())
                    return (call.id, tenant.id)
                },
                bulkEnqueue: { count in
                    let call = try catalog.registerCall(
                        tenantID: tenant.id, externalID: "bulk-\(UUID().uuidString)", startedAt: Date())
                    try catalog.enqueueJobs((0..<count).map { (call.id, "bulk-\($0)") })
                },
                postgresDatabase: nil, sqliteCatalogPath: catalog.path,
                tearDown: { [path = directory.path] in try? FileManager.default.removeItem(atPath: path) })
        case .postgres:
            let server = try PostgresServer.shared()
            let database = try await server.createDatabaseOffPool()
            let queue = try await PostgresJobQueue.open(
                server.settings(database: database, maximumConnections: maximumConnections),
                logger: PostgresServer.quietLogger)
            return QueueFixture(
                backend: backend, queue: queue,
                newCall: { ("call-\(UUID().uuidString.lowercased())", "tenant-1") },
                bulkEnqueue: { count in
                    try server.psql(
                        database: database,
                        """
                        INSERT INTO jobs (id, call_id, tenant_id, engine, state, priority, attempts, run_after, created_at,
                            updated_at)
                        SELECT gen_random_uuid()::text, 'bulk-' || gen_random_uuid()::text, 'tenant-1', 'whisper', 'queued',
                            0, 0, now(), clock_timestamp(), now()
                        FROM generate_series(1, \(count))
                        """)
                },
                postgresDatabase: database,
                tearDown: {
                    await queue.close()
                    _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
                })
        }
    }

    /// Runs `body` on a fresh queue of `backend`, then removes the store (also when `body` throws).
    static func run(
        _ backend: Backend, maximumConnections: Int = 10, _ body: (QueueFixture) async throws -> Void
    ) async throws {
        let fixture = try await make(backend, maximumConnections: maximumConnections)
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    /// Queues one job for a new call.
    @discardableResult
    func enqueue(engine: String = "whisper", priority: Int = 0) async throws -> JobRecord {
        let (callID, tenantID) = try newCall()
        return try await queue.enqueue(JobRequest(callID: callID, tenantID: tenantID, engine: engine, priority: priority))
    }
}

/// The error `body` threw, or nil when it did not throw.
func queueError<T>(_ body: () async throws(JobQueueError) -> T) async -> JobQueueError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// The behaviour every ``JobQueue`` backend must have: the same tests on SQLite and on PostgreSQL.
@Suite("Job queue conformance (SQLite and PostgreSQL)", .timeLimit(.minutes(15)))
struct JobQueueConformanceTests {
    @Test(arguments: Backend.all)
    func claimsTheMostUrgentJobFirstAndQueuesEachCallAndEngineOnce(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            var queued: [JobRecord] = []
            for priority in [0, 2, 1, 2, 0] {
                queued.append(try await fixture.enqueue(priority: priority))
                try await Task.sleep(for: .milliseconds(3))  // distinct creation times (SQLite keeps milliseconds)
            }
            // Queuing the same call and engine again returns the job already queued.
            let again = try await fixture.queue.enqueue(
                JobRequest(callID: queued[1].callId, tenantID: queued[1].tenantId, engine: "whisper", priority: 9))
            #expect(again.id == queued[1].id && again.priority == 2)

            // Priority first, then the order they were queued in.
            let expected = [queued[1], queued[3], queued[2], queued[0], queued[4]].map(\.id)
            let first = try #require(try await fixture.queue.claimOne(workerID: "w", lease: .seconds(60)))
            #expect(first.id == expected[0])
            #expect(first.state == .running && first.attempts == 1 && first.leaseOwner == "w")
            #expect(first.lease == JobLease(jobID: first.id, workerID: "w", attempt: 1))
            let batch = try await fixture.queue.claim(workerID: "w", engines: nil, limit: 3, lease: .seconds(60))
            #expect(batch.map(\.id) == Array(expected[1...3]))
            let last = try await fixture.queue.claimOne(workerID: "w", lease: .seconds(60))
            #expect(last?.id == expected[4])
            #expect(try await fixture.queue.claimOne(workerID: "w", lease: .seconds(60)) == nil)
        }
    }

    @Test(arguments: Backend.all)
    func claimsOnlyTheEnginesAsked(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let whisper = try await fixture.enqueue(engine: "whisper")
            let sphinx = try await fixture.enqueue(engine: "pocketsphinx", priority: 5)
            let claimed = try await fixture.queue.claim(workerID: "w", engines: ["whisper", "auto"], limit: 5, lease: .seconds(60))
            #expect(claimed.map(\.id) == [whisper.id])
            #expect(try await fixture.queue.claimOne(workerID: "w", lease: .seconds(60))?.id == sphinx.id)
        }
    }

    @Test(arguments: Backend.all)
    func concurrentClaimersNeverGetTheSameJob(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let count = 60
            for _ in 0..<count { try await fixture.enqueue() }
            let queue = fixture.queue
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while let job = try await queue.claimOne(workerID: "w\(worker)", lease: .seconds(60)) {
                            mine.append(job.id)
                            try await queue.complete(try #require(job.lease))
                        }
                        return mine
                    }
                }
                var all: [String] = []
                for try await mine in group { all += mine }
                return all
            }
            #expect(claims.count == count, "every job claimed once: \(claims.count) claims of \(count) jobs")
            #expect(Set(claims).count == claims.count, "a job was claimed twice")
            #expect(try await queue.counts() == [.done: count])
        }
    }

    @Test(arguments: Backend.all)
    func anExpiredLeaseLetsAnotherWorkerClaimAndTheFirstCannotFinish(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            let job = try await fixture.enqueue()
            let lease = Duration.seconds(2)
            let clock = ContinuousClock()
            let askedAt = clock.now
            let stalled = try #require(try await queue.claimOne(workerID: "stalls", lease: lease))
            #expect(stalled.id == job.id)
            let firstLease = try #require(stalled.lease)
            let claimedBy = clock.now  // the lease ends by `claimedBy + lease`
            // While its lease runs nobody else gets it. The lease began after `askedAt`, so a second claim
            // that returns before `askedAt + lease` was certainly inside it (a loaded machine may take longer;
            // then there is nothing to assert).
            let second = try await queue.claimOne(workerID: "other", lease: .seconds(60))
            if clock.now < askedAt + lease {
                #expect(second == nil)
            }
            try await clock.sleep(until: claimedBy + lease + .milliseconds(300))
            var secondOrNew = second
            if secondOrNew == nil { secondOrNew = try await queue.claimOne(workerID: "other", lease: .seconds(60)) }
            let taken = try #require(secondOrNew)
            #expect(taken.id == job.id && taken.attempts == 2 && taken.leaseOwner == "other")

            // The stalled worker wakes up: every step of its attempt is refused, nothing changes.
            #expect(try await queue.renew(firstLease, for: .seconds(60)) == false)
            #expect(await queueError { () async throws(JobQueueError) in try await queue.complete(firstLease) }?.code == .leaseLost)
            #expect(
                await queueError { () async throws(JobQueueError) in
                    try await queue.fail(firstLease, error: "late", policy: JobRetryPolicy())
                }?.code == .leaseLost)
            #expect(
                await queueError { () async throws(JobQueueError) in
                    try await queue.postpone(firstLease, until: Date())
                }?.code == .leaseLost)
            // The same worker id with the old attempt number is refused too: the attempt is the fence.
            let staleSameOwner = JobLease(jobID: job.id, workerID: "other", attempt: 1)
            #expect(
                await queueError { () async throws(JobQueueError) in try await queue.complete(staleSameOwner) }?.code
                    == .leaseLost)
            #expect(try await queue.jobs(state: .running).map(\.id) == [job.id])

            // The current holder renews and completes.
            let current = try #require(taken.lease)
            #expect(try await queue.renew(current, for: .seconds(60)))
            try await queue.complete(current)
            let done = try await queue.jobs(state: .done)
            #expect(done.map(\.id) == [job.id] && done.first?.attempts == 2 && done.first?.leaseOwner == nil)
        }
    }

    @Test(arguments: Backend.all)
    func aBatchCompletesOnlyTheLeasesStillHeld(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            for _ in 0..<4 { try await fixture.enqueue() }
            let claimed = try await queue.claim(workerID: "w", engines: nil, limit: 4, lease: .seconds(60))
            var leases = try claimed.map { try #require($0.lease) }
            #expect(leases.count == 4)
            // One lease is stale (an earlier attempt), one is another worker's: only two are still held.
            leases[1].attempt = 0
            leases[2].workerID = "someone-else"
            #expect(try await queue.complete(leases) == 2)
            #expect(try await queue.counts() == [.done: 2, .running: 2])
            #expect(try await queue.complete([JobLease]()) == 0)
            #expect(
                Set(try await queue.jobs(state: .running).map(\.id)) == [claimed[1].id, claimed[2].id],
                "the refused leases' jobs are left as they were")
        }
    }

    @Test(arguments: Backend.all)
    func failedJobsAreRetriedThenDeadLetteredAndCanBeQueuedAgain(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            let job = try await fixture.enqueue()
            let policy = JobRetryPolicy(maximumAttempts: 3, baseDelay: .zero, jitter: 0)
            var states: [JobState] = []
            for attempt in 1...3 {
                let claimed = try #require(try await queue.claimOne(workerID: "w", lease: .seconds(60)))
                #expect(claimed.id == job.id && claimed.attempts == attempt)
                states.append(try await queue.fail(try #require(claimed.lease), error: "engine crashed \(attempt)", policy: policy))
            }
            #expect(states == [.failed, .failed, .dead])
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60)) == nil, "a dead job is not claimed")
            let dead = try #require(try await queue.jobs(state: .dead).first)
            #expect(dead.id == job.id && dead.lastError == "engine crashed 3" && dead.attempts == 3)

            // A backoff keeps a failed job back until it is due.
            let other = try await fixture.enqueue()
            let claimed = try #require(try await queue.claimOne(workerID: "w", lease: .seconds(60)))
            #expect(claimed.id == other.id)
            let slow = JobRetryPolicy(maximumAttempts: 5, baseDelay: .seconds(3600), jitter: 0)
            #expect(try await queue.fail(try #require(claimed.lease), error: "busy", policy: slow) == .failed)
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60)) == nil, "a failed job waits for its backoff")

            // An operator queues the dead one again: a fresh attempt count, claimable now.
            let retried = try await queue.retry(jobID: job.id)
            #expect(retried.state == .queued && retried.attempts == 0)
            let rerun = try #require(try await queue.claimOne(workerID: "w", lease: .seconds(60)))
            #expect(rerun.id == job.id && rerun.attempts == 1)
            #expect(
                await queueError { () async throws(JobQueueError) in try await queue.retry(jobID: job.id) }?.code
                    == .invalidArgument, "a running job cannot be retried")
        }
    }

    @Test(arguments: Backend.all)
    func countsAndListsJobsByState(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            var jobs: [JobRecord] = []
            for _ in 0..<6 {
                jobs.append(try await fixture.enqueue())
                try await Task.sleep(for: .milliseconds(3))
            }
            #expect(try await queue.counts() == [.queued: 6])
            let claimed = try await queue.claim(workerID: "w", engines: nil, limit: 4, lease: .seconds(60))
            #expect(claimed.map(\.id) == Array(jobs[0..<4].map(\.id)))
            try await queue.complete(try #require(claimed[0].lease))
            #expect(try await queue.fail(try #require(claimed[1].lease), error: "x", policy: JobRetryPolicy(maximumAttempts: 1)) == .dead)
            // Postponed: back in the queue for later, the attempt not counted.
            try await queue.postpone(try #require(claimed[2].lease), until: Date().addingTimeInterval(3600))
            try await queue.cancel(jobID: jobs[4].id, reason: "recording shredded")
            #expect(
                await queueError { () async throws(JobQueueError) in
                    try await queue.cancel(jobID: jobs[0].id, reason: "too late")
                }?.code == .invalidArgument, "a done job cannot be cancelled")

            #expect(try await queue.counts() == [.queued: 2, .running: 1, .done: 1, .dead: 1, .cancelled: 1])
            #expect(try await queue.jobs(state: .queued).map(\.id) == [jobs[2].id, jobs[5].id])
            #expect(try await queue.jobs(state: .cancelled).first?.lastError == "recording shredded")
            let postponed = try #require(try await queue.jobs(state: .queued).first)
            #expect(postponed.attempts == 0 && postponed.leaseOwner == nil)
            #expect(try await queue.jobs(state: nil).map(\.id) == jobs.map(\.id), "all jobs, oldest first")
            // Only the job not postponed is due.
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60))?.id == jobs[5].id)
        }
    }

    @Test(arguments: Backend.all)
    func archivedJobsLeaveTheLiveQueueButStillCountAndList(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            var jobs: [JobRecord] = []
            for _ in 0..<6 {
                jobs.append(try await fixture.enqueue())
                try await Task.sleep(for: .milliseconds(3))
            }
            let claimed = try await queue.claim(workerID: "w", engines: nil, limit: 5, lease: .seconds(60))
            try await queue.complete(try #require(claimed[0].lease))
            try await queue.complete(try #require(claimed[1].lease))
            #expect(try await queue.fail(try #require(claimed[2].lease), error: "x", policy: JobRetryPolicy(maximumAttempts: 1)) == .dead)
            #expect(try await queue.fail(try #require(claimed[3].lease), error: "y", policy: JobRetryPolicy(maximumAttempts: 5)) == .failed)
            try await queue.cancel(jobID: jobs[5].id, reason: "shredded")
            // jobs[4] stays running, jobs[3] failed (retried later): neither is finished.
            let counts = try await queue.counts()
            #expect(counts == [.done: 2, .dead: 1, .failed: 1, .running: 1, .cancelled: 1])
            let listed = try await queue.jobs(state: nil)

            #expect(try await queue.archiveFinishedJobs(olderThan: .seconds(3600), limit: 10) == 0, "none is that old")
            let expected = backend == .postgres ? 4 : 0  // SQLite keeps finished jobs in place
            let first = try await queue.archiveFinishedJobs(olderThan: .zero, limit: 3)
            let rest = try await queue.archiveAllFinishedJobs(olderThan: .zero, batch: 2)
            #expect(first == min(3, expected) && first + rest == expected)
            #expect(try await queue.archiveFinishedJobs(olderThan: .zero, limit: 10) == 0, "nothing left to archive")
            #expect(
                await queueError { () async throws(JobQueueError) in
                    try await queue.archiveFinishedJobs(olderThan: .zero, limit: 0)
                }?.code == .invalidArgument)

            // Counted and listed as before: the CLI's `jobs list` shows history, archived or not.
            #expect(try await queue.counts() == counts)
            #expect(try await queue.jobs(state: nil) == listed, "all jobs, oldest first, each once, unchanged")
            #expect(try await queue.jobs(state: .done).map(\.id) == [jobs[0].id, jobs[1].id])
            #expect(try await queue.jobs(state: .dead).first?.lastError == "x")
            if let database = fixture.postgresDatabase {
                let server = try PostgresServer.shared()
                #expect(try server.psql(database: database, "SELECT count(*) FROM jobs") == "2", "only live jobs stay")
                #expect(try server.psql(database: database, "SELECT count(*) FROM job_archive") == "4")
                #expect(
                    try server.psql(database: database, "SELECT count(*) FROM jobs JOIN job_archive USING (id)") == "0",
                    "a job is live or archived, never both")
            }

            // Still one job per call and engine: queuing an archived job's pair again returns it.
            let again = try await queue.enqueue(JobRequest(callID: jobs[0].callId, tenantID: jobs[0].tenantId, engine: "whisper"))
            #expect(again.id == jobs[0].id && again.state == .done)
            // An archived dead job is cancelled, an archived cancelled one queued again and claimed.
            try await queue.cancel(jobID: jobs[2].id, reason: "operator")
            #expect(try await queue.jobs(state: .cancelled).map(\.id) == [jobs[2].id, jobs[5].id])
            let retried = try await queue.retry(jobID: jobs[5].id)
            #expect(retried.id == jobs[5].id && retried.state == .queued && retried.attempts == 0)
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60))?.id == jobs[5].id)
            #expect(
                await queueError { () async throws(JobQueueError) in
                    try await queue.cancel(jobID: jobs[0].id, reason: "too late")
                }?.code == .invalidArgument, "an archived done job cannot be cancelled")
            #expect(try await queue.counts() == [.done: 2, .cancelled: 1, .failed: 1, .running: 2])
            #expect(Set(try await queue.jobs(state: nil).map(\.id)) == Set(jobs.map(\.id)))
        }
    }

    @Test(arguments: Backend.all)
    func queuingAJobAgainWhileItIsArchivedNeverMakesASecond(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            var jobs: [JobRecord] = []
            for _ in 0..<60 { jobs.append(try await fixture.enqueue()) }
            while true {
                let claimed = try await queue.claim(workerID: "w", engines: nil, limit: 20, lease: .seconds(60))
                if claimed.isEmpty { break }
                _ = try await queue.complete(claimed.compactMap(\.lease))
            }
            // Archivers moving small batches while the same calls and engines are queued again.
            let requests = jobs.map { JobRequest(callID: $0.callId, tenantID: $0.tenantId, engine: $0.engine) }
            let (archived, returned) = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for _ in 0..<2 {
                    group.addTask { (try await queue.archiveAllFinishedJobs(olderThan: .zero, batch: 3), []) }
                }
                for _ in 0..<3 {
                    group.addTask {
                        var ids: [String] = []
                        for request in requests.shuffled() {
                            ids.append(try await queue.enqueue(request).id)
                        }
                        return (0, ids)
                    }
                }
                var archived = 0
                var returned: [String] = []
                for try await (moved, ids) in group {
                    archived += moved
                    returned += ids
                }
                return (archived, returned)
            }
            #expect(archived == (backend == .postgres ? 60 : 0))
            #expect(Set(returned) == Set(jobs.map(\.id)), "queuing again returned the existing jobs, no new one")
            #expect(try await queue.counts() == [.done: 60], "no second job for a call and engine")
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60)) == nil)
        }
    }

    @Test(arguments: Backend.all)
    func waitingForWorkEndsEarlyWhenAJobIsQueuedAndAtTheTimeoutOtherwise(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            let started = ContinuousClock.now
            #expect(try await queue.waitForWork(timeout: .milliseconds(400)) == false, "nothing queued")
            #expect(ContinuousClock.now - started >= .milliseconds(350), "returned before its timeout")
            if let postgres = queue as? PostgresJobQueue {
                try await waitUntilListening(postgres)
            }
            let waiter = Task { () async throws -> (Bool, ContinuousClock.Instant) in
                let woken = try await queue.waitForWork(timeout: .seconds(30))
                return (woken, ContinuousClock.now)
            }
            try await Task.sleep(for: .milliseconds(300))
            let queued = ContinuousClock.now
            let job = try await fixture.enqueue()
            let (woken, at) = try await waiter.value
            #expect(woken, "the waiting worker was not woken")
            // Woken before its 30 s timeout is the claim. Not a tighter bound: in a full, loaded run the
            // waiter's task was resumed 10.9 s late (both cooperative threads busy), though it polls every 100 ms.
            #expect(at - queued < .seconds(25), "woken \(at - queued) after the job was queued (timeout 30 s)")
            // Polling stays the truth: the job is claimed whatever the wake-up did.
            #expect(try await queue.claimOne(workerID: "w", lease: .seconds(60))?.id == job.id)
        }
    }
}

/// Waits (at most 10 s) until `queue` listens for queued jobs, so a notification sent next is seen.
func waitUntilListening(_ queue: PostgresJobQueue) async throws {
    let until = ContinuousClock.now + .seconds(10)
    while !queue.isListeningForWork {
        guard ContinuousClock.now < until else {
            Issue.record("the queue did not start listening for queued jobs within 10 s")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
