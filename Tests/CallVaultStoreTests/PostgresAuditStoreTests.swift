import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// What only the PostgreSQL audit store has: its place in the schema migrations, its chain-head row,
/// and errors that name the database without its password. (Its log behaviour is in
/// ``AuditStoreConformanceTests``.)
@Suite(
    "PostgreSQL audit store: migrations and errors",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15))
)
struct PostgresAuditStoreTests {
    @Test func aQueueOnlyDatabaseIsUpgradedKeepingItsJobs() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let settings = server.settings(database: database)
        // A database as the queue-only release (schema version 1) left it, with a job queued.
        let queue = try await PostgresJobQueue.open(settings, logger: PostgresServer.quietLogger)
        let job = try await queue.enqueue(JobRequest(callID: "c1", tenantID: "t", engine: "whisper"))
        await queue.close()
        try server.psql(
            database: database,
            """
            DROP TABLE audit_log; DROP TABLE audit_head; DROP FUNCTION audit_log_refuse_change();
            DROP TABLE job_archive; DROP INDEX jobs_finished, jobs_by_created, jobs_by_tenant_created;
            DROP TABLE console_sign_in_failures, console_playback_grants, console_sessions;
            DROP TABLE bot_utterances, operator_roles, operators, sensitive_windows, webhook_outbox, webhook_endpoints;
            DROP TABLE transcripts, paused_spans, recordings, consent_events, calls, tenants, service_leases;
            DROP TABLE key_hold, key_day, key_destroyed_day, key_data, key_shredded_data, key_retired_provider,
                key_tenant, key_root_check;
            DELETE FROM schema_version WHERE version > 1
            """
        )

        let store = try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
        #expect(
            try server.psql(
                database: database,
                "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version"
            ) == PostgresSchema.migrations.map { String($0.version) }.joined(separator: ",")
        )
        #expect(try server.psql(database: database, "SELECT id FROM jobs") == job.id)
        let entry = try await store.append(AuditEvent(actor: "test", action: .tenantCreated, tenantID: "t"))
        #expect(entry.seq == 1 && Array(entry.prevHash) == AuditLog.genesisHash)
        #expect(try await store.verify() == .intact(entries: 1, headHash: Array(entry.hash)))
        await store.close()
    }

    @Test func aNodeOlderThanTheSchemaRefusesToOpenTheLog() async throws {
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let settings = server.settings(database: database)
        try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger).close()
        try server.psql(database: database, "INSERT INTO schema_version (version, description) VALUES (99, 'future')")
        let error = await auditError { () async throws(AuditStoreError) in
            try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
        }
        #expect(error?.code == .schemaTooNew)
        #expect(error?.message.contains("schema version 99") == true, "\(String(describing: error))")
        #expect(error?.message.contains("upgrade callvault") == true)
    }

    @Test func anUnreachableDatabaseIsNamedWithoutItsPassword() async throws {
        let password = "pw-\(UUID().uuidString)"
        let closed = try UnusedPort()
        let settings = PostgresStoreSettings(
            host: "127.0.0.1",
            port: Int(closed.port),
            username: "callvault",
            password: password,
            database: "cvaudit",
            tls: .disable,
            connectTimeout: .seconds(3)
        )
        let error = await auditError { () async throws(AuditStoreError) in
            try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
        }
        #expect(error?.code == .unavailable)
        #expect(
            error?.message.contains("postgres://callvault@127.0.0.1:\(closed.port)/cvaudit") == true,
            "\(String(describing: error))"
        )
        #expect(error?.message.contains(password) == false, "an error message holds the password")
        #expect(error?.message.contains("audit log") == true)
    }

    @Test func aMissingChainHeadStopsAppendsWithTheReason() async throws {
        try await AuditFixture.run(.postgres) { fixture in
            try await fixture.appendEntries(2)
            try fixture.rawSQL("DELETE FROM audit_head", false)
            let error = await auditError { () async throws(AuditStoreError) in
                try await fixture.store.append(AuditEvent(actor: "test", action: .keyDestroyed))
            }
            #expect(error?.code == .databaseFailure)
            #expect(error?.message.contains("head row is missing") == true, "\(String(describing: error))")
            #expect(try await fixture.store.entries().count == 2, "nothing appended")
        }
    }

    @Test func theHeadRowFollowsTheLastEntry() async throws {
        try await AuditFixture.run(.postgres) { fixture in
            let appended = try await fixture.appendEntries(3)
            let last = try #require(appended.last)
            let store = try #require(fixture.store as? PostgresAuditStore)
            let head = try PostgresServer.shared().psql(
                database: store.settings.database,
                "SELECT seq || ':' || encode(hash, 'hex') FROM audit_head"
            )
            #expect(head == "3:" + last.hash.map { String(format: "%02x", $0) }.joined())
        }
    }
}
