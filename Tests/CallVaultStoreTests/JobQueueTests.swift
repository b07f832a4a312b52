import CallVaultModel
import Foundation
import Synchronization
import Testing

@testable import CallVaultStore

@Suite("Job queue: leases, retries, dead letters")
struct JobQueueTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    /// A catalog with one tenant and `count` calls, each with a queued job.
    private func queue(_ count: Int, in directory: CatalogTestDirectory) throws -> (Catalog, [JobRecord]) {
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "q").tenant
        let jobs = try (0..<count).map { index in
            let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA\(index)", startedAt: t0)
            return try catalog.enqueueJob(callID: call.id, engine: "pocketsphinx", priority: index % 3, at: t0)
        }
        return (catalog, jobs)
    }

    @Test func workersRacingFromSeparateConnectionsClaimEachJobExactlyOnce() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let (_, jobs) = try queue(100, in: directory)
        let claimed = Mutex<[String: [String]]>([:])
        let path = directory.path
        let now = t0.addingTimeInterval(1)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            // Each worker has its own catalog (its own SQLite connections), as separate processes would.
            guard let catalog = try? Catalog(directory: path) else { return }
            // Until the queue is empty; a claim that fails on a busy database is simply retried.
            var attempts = 0
            while attempts < 10_000 {
                attempts += 1
                let job: JobRecord
                do {
                    guard let next = try catalog.claimJob(workerID: "w\(worker)", lease: .seconds(60), now: now) else { break }
                    job = next
                } catch {
                    continue
                }
                claimed.withLock { $0[job.id, default: []].append("w\(worker)") }
                try? catalog.completeJob(jobID: job.id, workerID: "w\(worker)", now: now)
            }
        }
        let result = claimed.withLock { $0 }
        #expect(result.count == jobs.count)
        #expect(result.values.allSatisfy { $0.count == 1 }, "a job was claimed twice")
        // (Which worker gets how many depends on scheduling: on a loaded machine one may take them all.)
    }

    @Test func aDeadWorkersJobIsTakenByAnotherAfterItsLeaseAndTheDeadOneCannotFinishIt() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let (catalog, jobs) = try queue(1, in: directory)
        let first = try #require(try catalog.claimJob(workerID: "dies", lease: .seconds(30), now: t0))
        #expect(first.id == jobs[0].id && first.attempts == 1)
        #expect(try catalog.claimJob(workerID: "other", lease: .seconds(30), now: t0.addingTimeInterval(10)) == nil)
        #expect(try catalog.heartbeat(jobID: first.id, workerID: "dies", lease: .seconds(30), now: t0.addingTimeInterval(20)))
        // The worker stops heartbeating; 30 s after its last heartbeat the lease is gone.
        #expect(try catalog.claimJob(workerID: "other", lease: .seconds(30), now: t0.addingTimeInterval(45)) == nil)
        let second = try #require(try catalog.claimJob(workerID: "other", lease: .seconds(30), now: t0.addingTimeInterval(51)))
        #expect(second.id == first.id && second.attempts == 2 && second.leaseOwner == "other")
        #expect(throws: CatalogError.self) { try catalog.completeJob(jobID: first.id, workerID: "dies", now: t0.addingTimeInterval(52)) }
        #expect(try !catalog.heartbeat(jobID: first.id, workerID: "dies", lease: .seconds(30), now: t0.addingTimeInterval(52)))
        try catalog.completeJob(jobID: first.id, workerID: "other", now: t0.addingTimeInterval(53))
        #expect(try catalog.jobs(state: .done).map(\.id) == [first.id])
    }

    @Test func failuresBackOffExponentiallyThenDeadLetterWithTheLastError() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let (catalog, _) = try queue(1, in: directory)
        let policy = JobRetryPolicy(maximumAttempts: 3, baseDelay: .seconds(10), maximumDelay: .seconds(3600), jitter: 0)
        var now = t0
        var delays: [Double] = []
        for attempt in 1...3 {
            let job = try #require(try catalog.claimJob(workerID: "w", lease: .seconds(60), now: now), "attempt \(attempt)")
            let state = try catalog.failJob(jobID: job.id, workerID: "w", error: "engine timeout #\(attempt)", policy: policy, now: now)
            #expect(state == (attempt < 3 ? .failed : .dead))
            let stored = try #require(try catalog.jobs().first)
            delays.append(stored.runAfter.timeIntervalSince(now))
            #expect(try catalog.claimJob(workerID: "w", lease: .seconds(60), now: now.addingTimeInterval(1)) == nil, "not before its backoff")
            now = stored.runAfter.addingTimeInterval(1)
        }
        #expect(delays[0].rounded() == 10 && delays[1].rounded() == 20)
        let dead = try #require(try catalog.jobs(state: .dead).first)
        #expect(dead.lastError == "engine timeout #3" && dead.attempts == 3)
        #expect(try catalog.claimJob(workerID: "w", lease: .seconds(60), now: now.addingTimeInterval(10_000)) == nil)
        // Jitter stays within its bounds.
        let jittered = JobRetryPolicy(baseDelay: .seconds(100), jitter: 0.2)
        #expect((80...120).contains(jittered.delaySeconds(afterAttempt: 1, random: 0)))
        #expect((80...120).contains(jittered.delaySeconds(afterAttempt: 1, random: 0.999)))
    }

    @Test func cancelledJobsAreNeverClaimedAndKeepTheirReason() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let (catalog, jobs) = try queue(2, in: directory)
        try catalog.cancelJob(jobID: jobs[0].id, reason: "recording shredded", now: t0)
        let claimed = try #require(try catalog.claimJob(workerID: "w", lease: .seconds(60), now: t0.addingTimeInterval(1)))
        #expect(claimed.id == jobs[1].id)
        #expect(try catalog.claimJob(workerID: "w", lease: .seconds(60), now: t0.addingTimeInterval(2)) == nil)
        #expect(try catalog.jobs(state: .cancelled).first?.lastError == "recording shredded")
        try catalog.completeJob(jobID: claimed.id, workerID: "w", now: t0.addingTimeInterval(3))
        #expect(throws: CatalogError.self) { try catalog.cancelJob(jobID: claimed.id, reason: "late", now: t0) }
    }

    @Test func higherPriorityRunsFirst() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let (catalog, _) = try queue(6, in: directory)
        var priorities: [Int] = []
        while let job = try catalog.claimJob(workerID: "w", lease: .seconds(60), now: t0.addingTimeInterval(1)) {
            priorities.append(job.priority)
            try catalog.completeJob(jobID: job.id, workerID: "w", now: t0.addingTimeInterval(1))
        }
        #expect(priorities == [2, 2, 1, 1, 0, 0])
    }
}

@Suite("Job queue: batch claims")
struct JobQueueBatchTests {
    @Test func batchClaimsTakeEachJobOnceInUrgencyOrderAndCompleteOnlyWhatIsHeld() throws {
        let directory = try CatalogTestDirectory()
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "batch").tenant.id
        let t0 = Date()
        for index in 0..<25 {
            let call = try catalog.registerCall(tenantID: tenant, externalID: "CA-\(index)")
            try catalog.enqueueJob(callID: call.id, engine: "e", priority: index == 24 ? 9 : 0, at: t0)
        }
        let first = try catalog.claimJobs(workerID: "a", limit: 10, lease: .seconds(60), now: t0.addingTimeInterval(1))
        let second = try catalog.claimJobs(workerID: "b", limit: 100, lease: .seconds(60), now: t0.addingTimeInterval(1))
        #expect(first.count == 10 && second.count == 15)
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
        #expect(first.contains { $0.priority == 9 }, "the urgent job is in the first batch")
        #expect(try catalog.claimJobs(workerID: "c", limit: 5, lease: .seconds(60), now: t0.addingTimeInterval(2)).isEmpty)
        // "b" cannot complete "a"'s jobs; "a" completes its own.
        #expect(try catalog.completeJobs(ids: first.map(\.id), workerID: "b") == 0)
        #expect(try catalog.completeJobs(ids: first.map(\.id), workerID: "a") == 10)
        #expect(try catalog.jobs(state: .done).count == 10 && catalog.jobs(state: .running).count == 15)
    }
}
