import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization
import CallVaultTestSupport
import Testing

@testable import CallVaultTranscribe

/// The lease keeper counts a lease lost only on a definite answer: the renewal found the job no
/// longer ours, or the lease ran out unrenewed. A failing renewal is retried until then.
///
/// The keeper is a task on a thread of its own; these tests wait with `Task.sleep`, so they hold no thread
/// of the cooperative pool either.
@Suite("Lease keeper: a failed heartbeat is not a lost lease")
struct LeaseKeeperTests {
    /// Answers heartbeats from a script (`nil`: throw as a busy catalog would) and counts them.
    final class ScriptedHeartbeat: Sendable {
        private let state: Mutex<(calls: Int, script: [Bool?])>

        init(_ script: [Bool?]) { state = Mutex((0, script)) }

        var calls: Int { state.withLock { $0.calls } }

        func beat() throws(JobQueueError) -> Bool {
            let answer: Bool? = state.withLock { state in
                defer { state.calls += 1 }
                return state.script[min(state.calls, state.script.count - 1)]
            }
            guard let answer else { throw JobQueueError(.databaseFailure, "catalog write failed: database is locked") }
            return answer
        }
    }

    private func keeper(_ heartbeat: ScriptedHeartbeat, expiresIn seconds: TimeInterval = 60) -> LeaseKeeper {
        LeaseKeeper(
            lease: .seconds(60), expiresAt: Date().addingTimeInterval(seconds), interval: .milliseconds(20),
            retryDelay: .milliseconds(10)
        ) { () async throws(JobQueueError) in try heartbeat.beat() }
    }

    /// Polls every 10 ms for at most 300 s (the full suite on two cores can hold the keeper's thread
    /// back for a long time).
    private func wait(until condition: () -> Bool) async {
        let deadline = Date().addingTimeInterval(300)
        while !condition() && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func transientFailuresAreRetriedAndTheLeaseIsKept() async throws {
        let heartbeat = ScriptedHeartbeat([nil, nil, nil, true])
        // A lease far longer than the wait: on two cores loaded by builds the keeper's thread was seen held
        // back past a 60 s lease, which then rightly ran out.
        let keeper = keeper(heartbeat, expiresIn: 900)
        await wait { heartbeat.calls >= 6 }
        #expect(await !keeper.stop(), "three failed renewals, then renewed: still ours")
        #expect(keeper.transientFailures == 3)
    }

    @Test func aRenewalThatFindsTheJobTakenLosesTheLeaseAndStopsRenewing() async throws {
        let heartbeat = ScriptedHeartbeat([true, false])
        let keeper = keeper(heartbeat)
        await wait { heartbeat.calls >= 2 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(heartbeat.calls == 2, "no renewal after the lease was lost")
        #expect(keeper.isLost)
        #expect(await keeper.stop())
    }

    @Test func failuresUntilTheLeaseRunsOutLoseIt() async throws {
        let heartbeat = ScriptedHeartbeat([nil])
        // 3 s: room for several retries even when the keeper's task starts late on a loaded machine.
        let keeper = keeper(heartbeat, expiresIn: 3)
        await wait { heartbeat.calls > 3 }
        #expect(heartbeat.calls > 3, "retried while the lease lasted")
        await wait { keeper.isLost }
        let calls = heartbeat.calls
        try await Task.sleep(for: .milliseconds(100))
        #expect(heartbeat.calls == calls, "no renewal once it ran out")
        #expect(await keeper.stop(), "past its expiry without a renewal another worker may hold it")
    }

    @Test func aCatalogBusyDuringHeartbeatsDoesNotLoseTheLease() async throws {
        let fixture = try TranscriptionFixture()
        try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        // 600 s: this test's own waits may resume late in a full run; the lease must outlast them.
        let job = try #require(try fixture.catalog.claimJob(workerID: "w", lease: .seconds(600)))
        let claimedUntil = try #require(job.leaseExpiresAt)
        let impatient = try Catalog(path: fixture.catalog.path, busyTimeout: 0.02)
        let lock = try CatalogWriteLock(path: fixture.catalog.path)
        let queue = SQLiteJobQueue(catalog: impatient)
        let lease = try #require(job.lease)
        let keeper = LeaseKeeper(
            lease: .seconds(600), expiresAt: claimedUntil, interval: .milliseconds(50), retryDelay: .milliseconds(20)
        ) { () async throws(JobQueueError) in
            try await queue.renew(lease, for: .seconds(600))
        }
        await wait { keeper.transientFailures >= 3 }
        try lock.release()
        func leaseExpiry() throws -> Date? { try fixture.catalog.jobs().first { $0.id == job.id }?.leaseExpiresAt }
        await wait { ((try? leaseExpiry()) ?? nil).map { $0 > claimedUntil } ?? false }
        #expect(try leaseExpiry().map { $0 > claimedUntil } == true, "renewed once the catalog was free")
        #expect(await !keeper.stop(), "a busy catalog is not a lost lease")
        #expect(keeper.transientFailures >= 3)
        try fixture.catalog.completeJob(jobID: job.id, workerID: "w")
    }
}
