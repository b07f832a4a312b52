import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization
import CallVaultTestSupport
import Testing

@testable import CallVaultTranscribe

/// The lease keeper counts a lease lost only on a definite answer: the renewal found the job no
/// longer ours, or the lease ran out unrenewed. A failing renewal is retried until then.
@Suite("Lease keeper: a failed heartbeat is not a lost lease")
struct LeaseKeeperTests {
    /// Answers heartbeats from a script (`nil`: throw as a busy catalog would) and counts them.
    final class ScriptedHeartbeat: Sendable {
        private let state: Mutex<(calls: Int, script: [Bool?])>

        init(_ script: [Bool?]) { state = Mutex((0, script)) }

        var calls: Int { state.withLock { $0.calls } }

        func beat() throws(CatalogError) -> Bool {
            let answer: Bool? = state.withLock { state in
                defer { state.calls += 1 }
                return state.script[min(state.calls, state.script.count - 1)]
            }
            guard let answer else { throw CatalogError(.databaseFailure, "catalog write failed: database is locked") }
            return answer
        }
    }

    private func keeper(_ heartbeat: ScriptedHeartbeat, expiresIn seconds: TimeInterval = 60) -> LeaseKeeper {
        LeaseKeeper(
            lease: .seconds(60), expiresAt: Date().addingTimeInterval(seconds), interval: 0.02, retryDelay: 0.01
        ) { _ throws(CatalogError) in try heartbeat.beat() }
    }

    /// Polls on the test's own thread: an `async` sleep could resume only after the (two-thread)
    /// cooperative pool is free, long after the lease this test holds open ran out.
    private func wait(until condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    @Test func transientFailuresAreRetriedAndTheLeaseIsKept() throws {
        let heartbeat = ScriptedHeartbeat([nil, nil, nil, true])
        let keeper = keeper(heartbeat)
        wait { heartbeat.calls >= 6 }
        #expect(!keeper.stop(), "three failed renewals, then renewed: still ours")
        #expect(keeper.transientFailures == 3)
    }

    @Test func aRenewalThatFindsTheJobTakenLosesTheLeaseAndStopsRenewing() throws {
        let heartbeat = ScriptedHeartbeat([true, false])
        let keeper = keeper(heartbeat)
        wait { heartbeat.calls >= 2 }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(heartbeat.calls == 2, "no renewal after the lease was lost")
        #expect(keeper.stop())
    }

    @Test func failuresUntilTheLeaseRunsOutLoseIt() throws {
        let heartbeat = ScriptedHeartbeat([nil])
        let keeper = keeper(heartbeat, expiresIn: 0.3)
        wait { heartbeat.calls > 3 }
        #expect(heartbeat.calls > 3, "retried while the lease lasted")
        Thread.sleep(forTimeInterval: 0.4)
        #expect(keeper.stop(), "past its expiry without a renewal another worker may hold it")
    }

    @Test func aCatalogBusyDuringHeartbeatsDoesNotLoseTheLease() throws {
        let fixture = try TranscriptionFixture()
        try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let job = try #require(try fixture.catalog.claimJob(workerID: "w", lease: .seconds(60)))
        let claimedUntil = try #require(job.leaseExpiresAt)
        let impatient = try Catalog(path: fixture.catalog.path, busyTimeout: 0.02)
        let lock = try CatalogWriteLock(path: fixture.catalog.path)
        let keeper = LeaseKeeper(
            lease: .seconds(60), expiresAt: claimedUntil, interval: 0.05, retryDelay: 0.02
        ) { now throws(CatalogError) in
            try impatient.heartbeat(jobID: job.id, workerID: "w", lease: .seconds(60), now: now)
        }
        wait { keeper.transientFailures >= 3 }
        try lock.release()
        func leaseExpiry() throws -> Date? { try fixture.catalog.jobs().first { $0.id == job.id }?.leaseExpiresAt }
        wait { ((try? leaseExpiry()) ?? nil).map { $0 > claimedUntil } ?? false }
        #expect(try leaseExpiry().map { $0 > claimedUntil } == true, "renewed once the catalog was free")
        #expect(!keeper.stop(), "a busy catalog is not a lost lease")
        #expect(keeper.transientFailures >= 3)
        try fixture.catalog.completeJob(jobID: job.id, workerID: "w")
    }
}
