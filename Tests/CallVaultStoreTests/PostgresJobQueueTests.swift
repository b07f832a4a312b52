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
        let database = try server.createDatabase()
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
        let database = try server.createDatabase()
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

    private func open(_ settings: PostgresStoreSettings) async throws(JobQueueError) -> PostgresJobQueue {
        try await PostgresJobQueue.open(settings, logger: PostgresServer.quietLogger)
    }

    /// The error opening a store with `settings` fails with, or nil when it opens.
    private func openError(_ settings: PostgresStoreSettings) async -> JobQueueError? {
        await queueError { () async throws(JobQueueError) in try await open(settings) }
    }
}
