import CallVaultModel
import CallVaultTestSupport
import Foundation
import Metrics
import MetricsTestKit
import Synchronization
import Testing

@testable import CallVaultStore
import PostgresNIO

/// The test process's metrics system, shared with the other targets' suites (one bootstrap per process).
var testMetrics: TestMetrics { sharedTestMetrics }

/// What the store reports: PostgreSQL operation times and outcomes, leases that ran out, queue depth.
@Suite(
    "Store metrics",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct StoreMetricsTests {
    @Test func operationsAreTimedALeaseThatRanOutIsCountedAndQueueDepthIsPerState() async throws {
        let metrics = testMetrics
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let queue = try await PostgresJobQueue.open(server.settings(database: database), logger: PostgresServer.quietLogger)
        let expiriesBefore = (try? metrics.expectCounter("callvault_job_lease_expiries_total").totalValue) ?? 0
        let okBefore =
            (try? metrics.expectTimer("callvault_db_operation_seconds", [("backend", "postgres"), ("outcome", "ok")])
                .values.count) ?? 0

        _ = try await queue.enqueue(JobRequest(callID: "c1", tenantID: "t", engine: "whisper"))
        let first = try #require(try await queue.claimOne(workerID: "w1", lease: .seconds(1)))
        try await Task.sleep(for: .milliseconds(1_500))
        // w1 stalled: its lease ran out, w2 takes the job over.
        let second = try #require(try await queue.claimOne(workerID: "w2", lease: .seconds(60)))
        #expect(second.id == first.id && second.attempts == 2)
        #expect(try metrics.expectCounter("callvault_job_lease_expiries_total").totalValue >= expiriesBefore + 1)
        let timer = try metrics.expectTimer(
            "callvault_db_operation_seconds", [("backend", "postgres"), ("outcome", "ok")])
        #expect(timer.values.count >= okBefore + 3)
        #expect(timer.values.allSatisfy { $0 > 0 })
        // Other tests open pools of other sizes meanwhile: the gauge holds the last one opened.
        #expect((try metrics.expectGauge("callvault_db_pool_connections", [("backend", "postgres")]).lastValue ?? 0) > 0)

        StoreMetrics.recordQueueDepth(try await queue.counts())
        #expect(try metrics.expectGauge("callvault_jobs", [("state", "running")]).lastValue == 1)
        #expect(try metrics.expectGauge("callvault_jobs", [("state", "queued")]).lastValue == 0)
        await queue.close()
    }
}

/// The limits a node sets on its sessions at the server.
@Suite(
    "PostgreSQL session limits",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct PostgresSessionLimitTests {
    @Test func theServerEndsAStatementThisNodeStoppedWaitingFor() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        var settings = server.settings(database: database)
        settings.operationTimeout = .seconds(2)
        settings.longReadTimeout = .seconds(2)
        let catalog = try await PostgresCatalog.open(settings, logger: PostgresServer.quietLogger)
        let shown: [String] = try await catalog.perform("show the limits", within: .seconds(60)) {
            var values: [String] = []
            for name in ["statement_timeout", "idle_in_transaction_session_timeout"] {
                for try await value in try await catalog.client.query(
                    PostgresQuery(unsafeSQL: "SHOW \(name)"), logger: catalog.logger
                ).decode(String.self) {
                    values.append(value)
                }
            }
            return values
        }
        #expect(shown == ["3s", "10s"])
        // A statement longer than the limit is cancelled by the server itself (the client waits longer here).
        let error = await catalogError {
            try await catalog.perform("sleep", within: .seconds(60)) {
                try await catalog.client.query("SELECT pg_sleep(6)", logger: catalog.logger).collect().count
            }
        }
        #expect(error?.message.contains("statement timeout") == true, "\(String(describing: error))")
        // Closing waits for the pool's run task. In two full-suite runs (never alone) that wait did not end
        // after the server had cancelled a statement, and the whole test process stayed idle until killed:
        // bounded here, and reported as a known intermittent issue instead of hanging the run.
        if await !Self.finishes(within: .seconds(60), { await catalog.close() }) {
            withKnownIssue("closing a PostgreSQL catalog after a server-cancelled statement did not finish in 60 s", isIntermittent: true) {
                Issue.record("the pool's run task did not end after cancellation")
            }
        }
    }

    /// Whether `work` finishes within `limit`; if not, it is left running (abandoned), so a wait that never
    /// ends cannot keep the test, and with it the whole test process, from finishing.
    static func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let outcome = FirstOutcome()
        return await withCheckedContinuation { continuation in
            outcome.wait(continuation)
            Task {
                await work()
                outcome.resume(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                outcome.resume(false)
            }
        }
    }

    /// Resumes a continuation once, with whichever outcome comes first.
    final class FirstOutcome: Sendable {
        private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        func wait(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation.withLock { $0 = continuation } }
        func resume(_ finished: Bool) { continuation.withLock { $0.take() }?.resume(returning: finished) }
    }
}
