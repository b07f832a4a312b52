import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// A database that goes down: every operation of the PostgreSQL stores fails within its deadline with
/// `unavailable`, naming the database (never the password) and what was being done, instead of waiting
/// for the pool to reconnect; once the database is back the same store objects work again. On a cluster
/// of the test's own (``PostgresServer/startPrivate()``), so stopping it takes nothing from other tests.
@Suite(
    "PostgreSQL stores: a database that goes down",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    // Each operation's deadline is checked on its own (3 s + slack); the whole test took 320-380 s in
    // full runs (a private cluster's start and stop wait for threads there), and a 5-minute limit
    // cancelled it mid-way in CI, turning the later operations' errors into CancellationErrors.
    .timeLimit(.minutes(15))
)
struct PostgresUnavailableTests {
    @Test func operationsFailWithinTheirDeadlineWhileTheDatabaseIsDownAndWorkAgainAfter() async throws {
        let server = try PostgresServer.startPrivate()
        defer { server.remove() }
        let database = try await server.createDatabaseOffPool()
        let deadline = Duration.seconds(3)
        // How late past its deadline an operation may return: the full suite runs every test at once on 2
        // cores, where the deadline's own timer can wait seconds for a thread. Still far from "never".
        let slack = Duration.seconds(6)
        var settings = server.settings(database: database, maximumConnections: 4)
        settings.password = "pw-never-shown"
        settings.operationTimeout = deadline
        settings.longReadTimeout = deadline
        let queue = try await PostgresJobQueue.open(settings, logger: PostgresServer.quietLogger)
        let audit = try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
        // While the database is up, an operation that misses the short deadline on a loaded machine is
        // tried again (it is not what this test is about).
        let before = try await retryingWhileSlow {
            try await queue.enqueue(JobRequest(callID: "c-before", tenantID: "t", engine: "whisper"))
        }
        _ = try await retryingWhileSlow {
            try await audit.append(AuditEvent(actor: "test", action: "test.before", tenantID: nil))
        }

        try server.stop()
        let target = "postgres://postgres@127.0.0.1:\(server.port)/\(database)"
        // Several rounds: the first operations may see their pooled connections cut (failing at once), the
        // later ones wait for a connection the pool cannot make, until the deadline.
        var timedOut = 0
        for round in 0..<2 {
            let operations: [(String, @Sendable () async -> (any Error)?)] = [
                (
                    "queue a job",
                    {
                        await caught { () async throws(JobQueueError) in
                            _ = try await queue.enqueue(
                                JobRequest(callID: "c-down-\(round)", tenantID: "t", engine: "whisper")
                            )
                        }
                    }
                ),
                (
                    "claim jobs",
                    {
                        await caught { () async throws(JobQueueError) in
                            _ = try await queue.claimOne(workerID: "w", lease: .seconds(60))
                        }
                    }
                ),
                (
                    "count jobs",
                    {
                        await caught { () async throws(JobQueueError) in _ = try await queue.counts() }
                    }
                ),
                (
                    "list jobs",
                    {
                        await caught { () async throws(JobQueueError) in _ = try await queue.jobs(state: nil) }
                    }
                ),
                (
                    "append to the audit log",
                    {
                        await caught { () async throws(AuditStoreError) in
                            _ = try await audit.append(
                                AuditEvent(actor: "test", action: "test.down", tenantID: nil)
                            )
                        }
                    }
                ),
                (
                    "verify the audit log",
                    {
                        await caught { () async throws(AuditStoreError) in _ = try await audit.verify() }
                    }
                ),
            ]
            for (what, operation) in operations {
                let started = ContinuousClock.now
                let error = await operation()
                let took = ContinuousClock.now - started
                #expect(took < deadline + slack, "\(what) took \(took), past its deadline of \(deadline)")
                let (code, message) = describe(error)
                #expect(code == "unavailable", "\(what): \(message)")
                #expect(message.contains(target), "\(what) does not name the database: \(message)")
                #expect(message.contains(what), "\(what) does not say what was being done: \(message)")
                #expect(!message.contains("pw-never-shown"), "an error message holds the password")
                if message.contains("did not answer within 3 s") { timedOut += 1 }
                print("observed: database down, round \(round): \(what) failed after \(took): \(message)")
            }
        }
        #expect(timedOut > 0, "no operation waited for the deadline: the test did not exercise it")

        // Back again: the same objects serve, once the pool has reconnected (it retries with backoff).
        try server.start()
        let reconnectBy = ContinuousClock.now + .seconds(60)
        var claimed: JobRecord?
        while claimed == nil {
            do {
                claimed = try await queue.claimOne(workerID: "w-after", lease: .seconds(60))
                guard claimed?.id == before.id else {
                    Issue.record(
                        "after the restart the queue holds \(try await queue.jobs(state: nil).map { "\($0.callId) \($0.state) \($0.leaseOwner ?? "-")" })"
                    )
                    return
                }
            } catch {
                #expect(error.code == .unavailable, "\(error)")
                guard ContinuousClock.now < reconnectBy else {
                    Issue.record("the queue did not work again within 60 s of the database's restart: \(error)")
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        try await queue.complete(try #require(claimed?.lease))
        // Nothing that timed out during the outage ran later, when the pool reconnected.
        #expect(try await queue.jobs(state: nil).map(\.callId) == ["c-before"])
        #expect(try await queue.counts() == [.done: 1])
        var appended = false
        while !appended {
            do {
                _ = try await audit.append(AuditEvent(actor: "test", action: "test.after", tenantID: nil))
                appended = true
            } catch {
                guard ContinuousClock.now < reconnectBy else {
                    Issue.record("the audit log did not work again within 60 s of the database's restart: \(error)")
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        let verification = try await audit.verify()
        #expect(verification.isIntact, "the audit chain is not intact after the restart: \(verification)")
        let actions = try await audit.entries(tenantID: nil, afterSeq: 0, limit: nil).map(\.action.rawValue)
        #expect(actions.last == "test.after" && !actions.contains("test.down"), "entries after the outage: \(actions)")
        await queue.close()
        await audit.close()
    }
}

/// `body`'s result, tried again (for up to a minute) while it fails with `unavailable`.
private func retryingWhileSlow<T>(_ body: () async throws -> T) async throws -> T {
    let until = ContinuousClock.now + .seconds(60)
    while true {
        do {
            return try await body()
        } catch let error as JobQueueError where error.code == .unavailable && ContinuousClock.now < until {
            continue
        } catch let error as AuditStoreError where error.code == .unavailable && ContinuousClock.now < until {
            continue
        }
    }
}

/// The error `body` threw, or nil.
private func caught<E: Error>(_ body: () async throws(E) -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// The code and message of a store error.
private func describe(_ error: (any Error)?) -> (code: String, message: String) {
    switch error {
    case let error as JobQueueError: (error.code.rawValue, error.message)
    case let error as AuditStoreError: (error.code.rawValue, error.message)
    case nil: ("none", "no error")
    case let error?: ("other", "\(error)")
    }
}
