import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// What only the PostgreSQL backend has: schema migrations shared by nodes, and errors that name the
/// database without its password. (Its queue behaviour is in ``JobQueueConformanceTests``.)
@Suite(
    "PostgreSQL job queue: migrations and errors",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct PostgresJobQueueTests {
    @Test func nodesStartingAtOnceApplyTheSchemaExactlyOnce() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let settings = server.settings(database: database, maximumConnections: 2)
        let queues = try await withThrowingTaskGroup(of: PostgresJobQueue.self) { group in
            for _ in 0..<4 {
                group.addTask { try await open(settings) }
            }
            var opened: [PostgresJobQueue] = []
            for try await queue in group { opened.append(queue) }
            return opened
        }
        #expect(queues.count == 4)
        #expect(
            try server.psql(database: database, "SELECT version FROM schema_version ORDER BY version")
                == PostgresSchema.migrations.map { String($0.version) }.joined(separator: "\n"))
        // Each node sees the others' jobs: one table.
        _ = try await queues[0].enqueue(JobRequest(callID: "c1", tenantID: "t", engine: "whisper"))
        #expect(try await queues[3].claimOne(workerID: "n3", lease: .seconds(60))?.callId == "c1")
        for queue in queues { await queue.close() }
    }

    @Test func aNodeOlderThanTheSchemaRefusesToStart() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let settings = server.settings(database: database)
        try await open(settings).close()
        // A newer release migrated the database further.
        try server.psql(database: database, "INSERT INTO schema_version (version, description) VALUES (99, 'future')")
        let error = await openError(settings)
        #expect(error?.code == .schemaTooNew)
        #expect(error?.message.contains("schema version 99") == true, "\(String(describing: error))")
        #expect(error?.message.contains(database) == true && error?.message.contains("upgrade callvault") == true)
    }

    @Test func anUnreachableDatabaseIsNamedWithoutItsPassword() async throws {
        let password = "pw-\(UUID().uuidString)"
        let closed = try UnusedPort()  // bound, not listening: connections are refused
        let settings = PostgresStoreSettings(
            host: "127.0.0.1", port: Int(closed.port), username: "callvault", password: password, database: "cvprod",
            tls: .disable, connectTimeout: .seconds(3))
        let error = await openError(settings)
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("postgres://callvault@127.0.0.1:\(closed.port)/cvprod") == true, "\(String(describing: error))")
        #expect(error?.message.contains(password) == false, "an error message holds the password")
        #expect(!settings.description.contains(password))
    }

    @Test func aMissingDatabaseSaysHowToCreateIt() async throws {
        let server = try PostgresServer.shared()
        var settings = server.settings(database: "cv_missing_\(UInt32.random(in: 0...UInt32.max))")
        settings.password = "never-shown"
        let error = await openError(settings)
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("database \(settings.database) does not exist") == true, "\(String(describing: error))")
        #expect(error?.message.contains("createdb") == true && error?.message.contains("never-shown") == false)
    }

    @Test func aWorkerOnAnotherNodeIsWokenByAnEnqueueAndPollingFindsJobsWithoutOne() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let settings = server.settings(database: database, maximumConnections: 2)
        let producer = try await open(settings)  // a serve node
        let worker = try await open(settings)  // a transcription node
        #expect(try await worker.waitForWork(timeout: .milliseconds(200)) == false)
        try await waitUntilListening(worker)

        // Woken within well under its timeout by an enqueue on the other node.
        let timeout = Duration.seconds(30)
        let waiter = Task { () async throws -> (Bool, ContinuousClock.Instant) in
            (try await worker.waitForWork(timeout: timeout), ContinuousClock.now)
        }
        try await Task.sleep(for: .milliseconds(300))
        let queued = ContinuousClock.now
        let job = try await producer.enqueue(JobRequest(callID: "c1", tenantID: "t", engine: "whisper"))
        let (woken, at) = try await waiter.value
        #expect(woken && at - queued < .seconds(10), "woken: \(woken), \(at - queued) after the enqueue (timeout \(timeout))")
        #expect(try await worker.claimOne(workerID: "w", lease: .seconds(60))?.id == job.id)

        // A notification that comes while the worker is busy (not waiting) is kept: its next wait returns at once.
        let second = try await producer.enqueue(JobRequest(callID: "c2", tenantID: "t", engine: "whisper"))
        try await Task.sleep(for: .milliseconds(300))
        let waited = ContinuousClock.now
        #expect(try await worker.waitForWork(timeout: timeout))
        #expect(ContinuousClock.now - waited < .seconds(10), "a kept notification ends the next wait at once")
        #expect(try await worker.claimOne(workerID: "w", lease: .seconds(60))?.id == second.id)

        // A job queued without a notification (here: by SQL, as if the hint were lost) wakes no one, and
        // the next claim (the poll after the timeout) still finds it.
        try server.psql(
            database: database,
            """
            INSERT INTO jobs (id, call_id, tenant_id, engine, state, priority, attempts, run_after, created_at, updated_at)
            VALUES ('silent', 'c3', 't', 'whisper', 'queued', 0, 0, now(), now(), now())
            """)
        #expect(try await worker.waitForWork(timeout: .milliseconds(500)) == false)
        #expect(try await worker.claimOne(workerID: "w", lease: .seconds(60))?.id == "silent")

        // Claimed right after the enqueue, before any wake-up could arrive: polling is the truth.
        let third = try await producer.enqueue(JobRequest(callID: "c4", tenantID: "t", engine: "whisper"))
        #expect(try await worker.claimOne(workerID: "w", lease: .seconds(60))?.id == third.id)
        await producer.close()
        await worker.close()
    }

    @Test func aSchemaVersion2NodeRefusesTheArchiveSchemaAndADatabaseAtVersion2IsUpgraded() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        // A database left at version 2 by the audit-log release, with a finished job in it.
        try server.psql(database: database, "CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for migration in PostgresSchema.migrations where migration.version <= 2 {
            for statement in migration.statements { try server.psql(database: database, statement) }
            try server.psql(database: database, "INSERT INTO schema_version (version, description) VALUES (\(migration.version), 'old')")
        }
        try server.psql(
            database: database,
            """
            INSERT INTO jobs (id, call_id, tenant_id, engine, state, priority, attempts, run_after, created_at, updated_at)
            VALUES ('old-done', 'c-old', 't', 'whisper', 'done', 0, 1, now(), now(), now())
            """)
        let queue = try await open(server.settings(database: database))
        #expect(
            try server.psql(database: database, "SELECT max(version) FROM schema_version")
                == String(PostgresSchema.currentVersion))
        #expect(try await queue.archiveFinishedJobs(olderThan: .zero, limit: 10) == 1)
        #expect(try await queue.jobs(state: .done).map(\.id) == ["old-done"])
        await queue.close()
        // The audit-log release knew version 2: it would refuse this database, as this binary refuses the next.
        let next = PostgresSchema.currentVersion + 1
        try server.psql(database: database, "INSERT INTO schema_version (version, description) VALUES (\(next), 'future')")
        let error = await openError(server.settings(database: database))
        #expect(
            error?.code == .schemaTooNew && error?.message.contains("knows (\(PostgresSchema.currentVersion))") == true,
            "\(String(describing: error))")
    }

    private func open(_ settings: PostgresStoreSettings) async throws(JobQueueError) -> PostgresJobQueue {
        try await PostgresJobQueue.open(settings, logger: PostgresServer.quietLogger)
    }

    /// The error opening a store with `settings` fails with, or nil when it opens.
    private func openError(_ settings: PostgresStoreSettings) async -> JobQueueError? {
        await queueError { () async throws(JobQueueError) in try await open(settings) }
    }
}
