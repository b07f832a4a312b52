import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// Measurements of both queue backends, printed as `measured:` lines (not asserted: the figures of a
/// shared 2-core machine vary). Off unless `CALLVAULT_QUEUE_FIGURES=1`; `CALLVAULT_QUEUE_PASSED` sets how
/// many jobs pass through PostgreSQL before its claim latency is measured again (default 100,000).
/// See `docs/store-postgres.md`.
@Suite(
    "Job queue figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_QUEUE_FIGURES"] == "1",
        "measurements only: set CALLVAULT_QUEUE_FIGURES=1"),
    .serialized, .timeLimit(.minutes(60)))
struct JobQueueFigures {
    @Test(arguments: Backend.all)
    func claimsPerSecond(_ backend: Backend) async throws {
        for workers in [1, 8] {
            try await QueueFixture.run(backend, maximumConnections: 10) { fixture in
                let count = 3000
                try fixture.bulkEnqueue(count)
                let started = ContinuousClock.now
                let done = try await drain(fixture.queue, workers: workers, batch: 1)
                let seconds = (ContinuousClock.now - started).seconds
                #expect(done == count)
                print(
                    "measured: \(backend) claim+complete, \(workers) worker(s), one job per claim: "
                        + "\(Int(Double(done) / seconds)) jobs/s (\(done) jobs in \(String(format: "%.2f", seconds)) s)")
                try fixture.bulkEnqueue(count)
                let batchStarted = ContinuousClock.now
                let batched = try await drain(fixture.queue, workers: workers, batch: 100)
                let batchSeconds = (ContinuousClock.now - batchStarted).seconds
                #expect(batched == count)
                print(
                    "measured: \(backend) claim+complete, \(workers) worker(s), batches of 100: "
                        + "\(Int(Double(batched) / batchSeconds)) jobs/s (\(batched) jobs in "
                        + "\(String(format: "%.2f", batchSeconds)) s)")
            }
        }
    }

    @Test func postgresClaimLatencyAfterManyJobsPassedThrough() async throws {
        try await claimLatencyAfterManyJobsPassedThrough(.postgres)
    }

    @Test func sqliteClaimLatencyAfterManyJobsPassedThrough() async throws {
        try await claimLatencyAfterManyJobsPassedThrough(.sqlite)
    }

    /// Claim latency on a fresh queue, then after `CALLVAULT_QUEUE_PASSED` jobs (default 100,000) passed
    /// through it (8 workers, claims of 50), with what the table holds then.
    private func claimLatencyAfterManyJobsPassedThrough(_ backend: Backend) async throws {
        let passed = ProcessInfo.processInfo.environment["CALLVAULT_QUEUE_PASSED"].flatMap { Int($0) } ?? 100_000
        try await QueueFixture.run(backend, maximumConnections: 10) { fixture in
            let before = try await claimLatencies(fixture)
            print("measured: \(backend) claim latency, fresh table: \(before)")
            var moved = 0
            let started = ContinuousClock.now
            while moved < passed {
                let step = min(20_000, passed - moved)
                try fixture.bulkEnqueue(step)
                moved += try await drain(fixture.queue, workers: 8, batch: 50)
            }
            let seconds = (ContinuousClock.now - started).seconds
            print(
                "measured: \(backend) \(moved) jobs passed through (8 workers, batches of 50) in "
                    + "\(String(format: "%.1f", seconds)) s: \(Int(Double(moved) / seconds)) jobs/s")
            let table: String
            if let database = fixture.postgresDatabase {
                table = try PostgresServer.shared().psql(
                    database: database,
                    "SELECT n_live_tup || ' live, ' || n_dead_tup || ' dead, ' || pg_size_pretty(pg_total_relation_size('jobs')) "
                        + "FROM pg_stat_user_tables WHERE relname = 'jobs'")
            } else {
                let path = try #require(fixture.sqliteCatalogPath)
                let rows = try await DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs") ?? 0 }
                let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                table = "\(rows) rows, catalog file \(bytes / 1_000_000) MB"
            }
            let after = try await claimLatencies(fixture)
            print("measured: \(backend) claim latency after \(moved) jobs passed through (\(table)): \(after)")
        }
    }

    @Test func postgresClaimLatencyWithArchiving() async throws {
        let passed = ProcessInfo.processInfo.environment["CALLVAULT_QUEUE_PASSED"].flatMap { Int($0) } ?? 100_000
        try await QueueFixture.run(.postgres, maximumConnections: 10) { fixture in
            let server = try PostgresServer.shared()
            let database = try #require(fixture.postgresDatabase)
            func table() throws -> String {
                try server.psql(
                    database: database,
                    """
                    SELECT 'jobs ' || s.n_live_tup || ' live, ' || s.n_dead_tup || ' dead, '
                        || pg_size_pretty(pg_total_relation_size('jobs')) || '; job_archive '
                        || (SELECT count(*) FROM job_archive) || ' rows, '
                        || pg_size_pretty(pg_total_relation_size('job_archive'))
                    FROM pg_stat_user_tables s WHERE s.relname = 'jobs'
                    """)
            }
            let before = try await claimLatencies(fixture)
            _ = try await fixture.queue.archiveAllFinishedJobs(olderThan: .zero)
            print("measured: postgres (archiving) claim latency, fresh table: \(before); \(try table())")
            var moved = 0
            var archived = 0
            let started = ContinuousClock.now
            while moved < passed {
                let step = min(20_000, passed - moved)
                try fixture.bulkEnqueue(step)
                // Workers draining, and an archiver beside them moving what they finish (batches of 1,000).
                async let drained = drain(fixture.queue, workers: 8, batch: 50)
                let archiving = ContinuousClock.now
                var stepArchived = 0
                repeat {
                    stepArchived += try await fixture.queue.archiveAllFinishedJobs(olderThan: .zero, batch: 1000)
                    try await Task.sleep(for: .milliseconds(200))
                } while stepArchived < step - 1000 && ContinuousClock.now - archiving < .seconds(600)
                moved += try await drained
                stepArchived += try await fixture.queue.archiveAllFinishedJobs(olderThan: .zero, batch: 1000)
                archived += stepArchived
            }
            let seconds = (ContinuousClock.now - started).seconds
            print(
                "measured: postgres (archiving) \(moved) jobs passed through (8 workers, batches of 50, an archiver "
                    + "beside them) in \(String(format: "%.1f", seconds)) s: \(Int(Double(moved) / seconds)) jobs/s; "
                    + "\(archived) archived")
            let tableAfter = try table()
            let after = try await claimLatencies(fixture)
            print("measured: postgres (archiving) claim latency after \(moved) jobs passed through (\(tableAfter)): \(after)")
            // What one VACUUM (autovacuum's work, done now) leaves: the dead versions' space free for reuse.
            try server.psql(database: database, "VACUUM (ANALYZE) jobs")
            try await Task.sleep(for: .seconds(1))  // statistics are reported asynchronously
            print("measured: postgres (archiving) after VACUUM jobs: \(try table())")
        }
    }

    /// Claims and completes until the queue is empty with `workers` concurrent workers; returns how many.
    private func drain(_ queue: any JobQueue, workers: Int, batch: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var done = 0
                    while true {
                        let jobs = try await queue.claim(
                            workerID: "m\(worker)", engines: nil, limit: batch, lease: .seconds(300))
                        if jobs.isEmpty { break }
                        if batch == 1 {
                            try await queue.complete(try #require(jobs.first?.lease))
                        } else {
                            #expect(try await queue.complete(jobs.compactMap(\.lease)) == jobs.count)
                        }
                        done += jobs.count
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// p50 / p99 / max of 300 single claims (each completed after it is timed) from 1,000 queued jobs.
    private func claimLatencies(_ fixture: QueueFixture) async throws -> String {
        try fixture.bulkEnqueue(1000)
        var times: [Double] = []
        for _ in 0..<300 {
            let started = ContinuousClock.now
            let job = try #require(try await fixture.queue.claimOne(workerID: "probe", lease: .seconds(300)))
            times.append((ContinuousClock.now - started).seconds * 1000)
            try await fixture.queue.complete(try #require(job.lease))
        }
        _ = try await drain(fixture.queue, workers: 8, batch: 50)
        times.sort()
        func at(_ q: Double) -> String { String(format: "%.2f", times[min(times.count - 1, Int(Double(times.count) * q))]) }
        return "p50 \(at(0.5)) ms, p99 \(at(0.99)) ms, max \(String(format: "%.2f", times.last ?? 0)) ms (300 claims)"
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
