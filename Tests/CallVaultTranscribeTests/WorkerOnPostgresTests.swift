import CallVaultArchive
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CallVaultStore
@testable import CallVaultTranscribe

/// The worker on the queue interface: jobs claimed from a shared PostgreSQL queue (a real server,
/// ``PostgresServer``), recordings and transcripts in the SQLite catalog of a data directory, as a
/// `transcribe --pending` node will run once the catalog is shared too.
@Suite(
    "Transcription worker on a PostgreSQL queue",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct WorkerOnPostgresTests {
    @Test func twoWorkersOnTwoQueueHandlesTranscribeEachCallExactlyOnce() async throws {
        let fixture = try TranscriptionFixture()
        try await PostgresQueues.run(nodes: 2) { nodes in
            let audio = try TranscriptionFixture.audio("answer.ulaw.wav")
            var calls: [String] = []
            for _ in 0..<3 {
                let call = try fixture.recordCall(caller: audio)
                calls.append(call)
                _ = try await nodes[0].enqueue(JobRequest(callID: call, tenantID: fixture.tenantID, engine: "auto"))
            }
            let (catalog, keyStore, directory) = (fixture.catalog, fixture.keyStore, fixture.directory)
            // Two nodes, each its own pool of connections, draining at once.
            let summaries = try await withThrowingTaskGroup(of: TranscriptionSummary.self) { group in
                for (index, node) in nodes.enumerated() {
                    group.addTask {
                        try await TranscriptionPool.drain(
                            catalog: catalog, queue: node, keyStore: keyStore, dataDirectory: directory, workers: 1,
                            configuration: { _ in TranscriptionWorker.Configuration(workerID: "node\(index)") },
                            makeEngine: { () throws(TranscriptionError) in try PocketSphinxEngine() })
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(summaries.map(\.done).reduce(0, +) == 3, "\(summaries)")
            #expect(summaries.allSatisfy { $0.failed == 0 && $0.leaseLost == 0 && $0.dead == 0 })
            for call in calls {
                #expect(try fixture.catalog.transcripts(callID: call).map(\.engine) == ["pocketsphinx"], "call \(call)")
            }
            let jobs = try await nodes[1].jobs(state: nil)
            #expect(jobs.count == 3 && jobs.allSatisfy { $0.state == .done && $0.attempts == 1 }, "\(jobs)")
            let created = try fixture.catalog.auditLog.entries().filter { $0.action == .transcriptCreated }
            #expect(created.count == 3)
            // The catalog's own queue was not used: its jobs for these calls still wait.
            #expect(try fixture.catalog.jobs(state: .queued).count == 3)
        }
    }

    @Test func aWorkerWhoseLeaseRanOutWhileItsEngineHungCannotFinishOverTheNewerAttempt() async throws {
        let fixture = try TranscriptionFixture()
        try await PostgresQueues.run(nodes: 2) { nodes in
            let call = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
            let job = try await nodes[0].enqueue(JobRequest(callID: call, tenantID: fixture.tenantID, engine: "auto"))
            let (catalog, keyStore, directory) = (fixture.catalog, fixture.keyStore, fixture.directory)
            // Worker A: its engine hangs until told, and its renewals do not reach the database meanwhile
            // (as when its process is stopped): its 2 s lease runs out.
            let hung = HeldEngine()
            let stalled = StalledRenewals(nodes[0])
            let first = Task {
                let worker = TranscriptionWorker(
                    catalog: catalog, queue: stalled, keyStore: keyStore, dataDirectory: directory, engine: hung,
                    configuration: .init(workerID: "a", lease: .seconds(2)))
                return try await worker.runNext()
            }
            try await poll("worker A's engine to start") { hung.started }
            try await Task.sleep(for: .milliseconds(2500))

            // Worker B on the other node claims the job again (attempt 2) and finishes it.
            let second = TranscriptionWorker(
                catalog: catalog, queue: nodes[1], keyStore: keyStore, dataDirectory: directory,
                engine: HeldEngine(held: false), configuration: .init(workerID: "b", lease: .seconds(60)))
            let report = try #require(try await second.runNext())
            guard case .done(let transcriptID) = report.outcome else {
                Issue.record("worker B: \(report.outcome)")
                return
            }
            #expect(try await nodes[1].jobs(state: .done).map(\.attempts) == [2])

            // A wakes up: its engine returns, its renewals get through. It must drop its result.
            stalled.resume()
            hung.release()
            let dropped = try #require(try await first.value)
            #expect(dropped.outcome == .leaseLost, "\(dropped.outcome)")
            #expect(hung.finished, "A's engine ran to its end")
            let rows = try fixture.catalog.transcripts(callID: call)
            #expect(rows.map(\.id) == [transcriptID], "one transcript, B's")
            let created = try fixture.catalog.auditLog.entries().filter { $0.action == .transcriptCreated }
            #expect(created.count == 1)
            let final = try #require(try await nodes[0].jobs(state: nil).first { $0.id == job.id })
            #expect(final.state == .done && final.attempts == 2 && final.leaseOwner == nil)
            // The database's fencing, asked directly: attempt 1 can no longer finish the job.
            let stale = JobLease(jobID: job.id, workerID: "a", attempt: 1)
            await #expect(throws: JobQueueError.self) { try await nodes[0].complete(stale) }
            #expect(try await nodes[0].renew(stale, for: .seconds(60)) == false)
        }
    }

    @Test func anIdleWorkerIsWokenByAnEnqueueLongBeforeItsPollInterval() async throws {
        let fixture = try TranscriptionFixture()
        try await PostgresQueues.run(nodes: 2) { nodes in
            let (catalog, keyStore, directory) = (fixture.catalog, fixture.keyStore, fixture.directory)
            let workerNode = nodes[0]
            let engine = HeldEngine(held: false)
            let pool = Task {
                try await TranscriptionPool.drain(
                    catalog: catalog, queue: workerNode, keyStore: keyStore, dataDirectory: directory, workers: 2,
                    // A poll interval far past the bound below: under a full suite on two cores loaded by builds
                    // the claim, unseal and engine start alone were seen taking 10 s.
                    idle: .wait(poll: .seconds(600)),
                    configuration: { TranscriptionWorker.Configuration(workerID: "idle-\($0)") },
                    makeEngine: { () throws(TranscriptionError) in engine })
            }
            // Both workers found nothing and wait: the node listens for notifications.
            try await poll("the worker node to listen") { workerNode.isListeningForWork }
            try await Task.sleep(for: .milliseconds(500))

            let call = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
            let enqueued = ContinuousClock.now
            let job = try await nodes[1].enqueue(JobRequest(callID: call, tenantID: fixture.tenantID, engine: "auto"))
            // Timed where the worker is (its engine's start, on its own thread), not by this test's polling,
            // which waits for a thread of the shared pool when the whole suite runs.
            try await poll("the job to be done") {
                try await nodes[1].jobs(state: .done).contains { $0.id == job.id }
            }
            let latency = try #require(engine.startedAt) - enqueued
            print(
                "idle worker on PostgreSQL: job claimed, its call unsealed and in the engine \(latency) after its "
                    + "enqueue on another node (poll interval 600 s)")
            #expect(latency < .seconds(90), "woken by the notification, not the 600 s poll: \(latency)")
            // Cancelling the run ends the waiting workers at once, not at their next poll.
            let cancelled = ContinuousClock.now
            pool.cancel()
            let summary = try await pool.value
            #expect(ContinuousClock.now - cancelled < .seconds(90), "not at the next poll, 600 s on")
            #expect(summary.done == 1 && summary.jobs == 1, "\(summary)")
            #expect(try fixture.catalog.transcripts(callID: call).count == 1)
        }
    }
}

/// PostgreSQL queue handles for one test: `nodes` stores on one fresh database, each with its own pool
/// and listener, as separate machines would have.
enum PostgresQueues {
    static func run(nodes count: Int, _ body: ([PostgresJobQueue]) async throws -> Void) async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        var nodes: [PostgresJobQueue] = []
        do {
            for _ in 0..<count {
                nodes.append(
                    try await PostgresJobQueue.open(server.settings(database: database), logger: PostgresServer.quietLogger))
            }
            try await body(nodes)
        } catch {
            for node in nodes { await node.close() }
            _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            throw error
        }
        for node in nodes { await node.close() }
        _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }
}

/// Waits (asynchronously, every 20 ms, at most 60 s) until `condition` holds; fails naming `what` if not.
func poll(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw PollTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct PollTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "waited 60 s for \(what)" }
}

/// An engine that, when held, blocks in `transcribe` until ``release()`` (a hung sidecar), then answers
/// one fixed utterance; when not held it answers at once.
final class HeldEngine: TranscriptionEngine, Sendable {
    let name = "stub"
    private let gate = DispatchSemaphore(value: 0)
    private let state: Mutex<(held: Bool, startedAt: ContinuousClock.Instant?, finished: Bool)>

    init(held: Bool = true) { state = Mutex((held, nil, false)) }

    var started: Bool { state.withLock { $0.startedAt != nil } }
    /// When `transcribe` was first called.
    var startedAt: ContinuousClock.Instant? { state.withLock { $0.startedAt } }
    var finished: Bool { state.withLock { $0.finished } }

    func release() { gate.signal() }

    func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError) -> [TranscriptSegment] {
        let held = state.withLock { state in
            if state.startedAt == nil { state.startedAt = .now }
            return state.held
        }
        if held { gate.wait() }
        state.withLock { $0.finished = true }
        let word = TranscriptWord(word: "hello", startMs: 0, endMs: 400, confidence: 1)
        return [TranscriptSegment(startMs: 0, endMs: 400, text: "hello", words: [word])]
    }
}

/// A queue whose lease renewals do not get through until ``resume()`` — as for a worker whose process
/// is stopped, or cut off from the database — and whose other operations go to `base` unchanged.
final class StalledRenewals: JobQueue {
    let base: any JobQueue
    private let stalled = Mutex(true)

    init(_ base: any JobQueue) { self.base = base }

    func resume() { stalled.withLock { $0 = false } }

    func renew(_ lease: JobLease, for duration: Duration) async throws(JobQueueError) -> Bool {
        while stalled.withLock({ $0 }) {
            do { try await Task.sleep(for: .milliseconds(10)) } catch {
                throw JobQueueError(.unavailable, "cancelled while stalled")
            }
        }
        return try await base.renew(lease, for: duration)
    }

    func enqueue(_ request: JobRequest) async throws(JobQueueError) -> JobRecord { try await base.enqueue(request) }
    func claim(workerID: String, engines: [String]?, limit: Int, lease: Duration) async throws(JobQueueError)
        -> [JobRecord]
    { try await base.claim(workerID: workerID, engines: engines, limit: limit, lease: lease) }
    func complete(_ lease: JobLease) async throws(JobQueueError) { try await base.complete(lease) }
    func complete(_ leases: [JobLease]) async throws(JobQueueError) -> Int { try await base.complete(leases) }
    func fail(_ lease: JobLease, error: String, policy: JobRetryPolicy) async throws(JobQueueError) -> JobState {
        try await base.fail(lease, error: error, policy: policy)
    }
    func postpone(_ lease: JobLease, until: Date) async throws(JobQueueError) { try await base.postpone(lease, until: until) }
    func cancel(jobID: String, reason: String) async throws(JobQueueError) { try await base.cancel(jobID: jobID, reason: reason) }
    func retry(jobID: String) async throws(JobQueueError) -> JobRecord { try await base.retry(jobID: jobID) }
    func jobs(state: JobState?) async throws(JobQueueError) -> [JobRecord] { try await base.jobs(state: state) }
    func job(id: String) async throws(JobQueueError) -> JobRecord? { try await base.job(id: id) }
    func jobs(matching query: JobListQuery) async throws(JobQueueError) -> [JobRecord] {
        try await base.jobs(matching: query)
    }
    func counts() async throws(JobQueueError) -> [JobState: Int] { try await base.counts() }
    func archiveFinishedJobs(olderThan: Duration, limit: Int) async throws(JobQueueError) -> Int {
        try await base.archiveFinishedJobs(olderThan: olderThan, limit: limit)
    }
    func waitForWork(timeout: Duration) async throws(JobQueueError) -> Bool { try await base.waitForWork(timeout: timeout) }
}
