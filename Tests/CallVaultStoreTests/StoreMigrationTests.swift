import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// `migrate-store`'s core: an embedded catalog copied into PostgreSQL, verified, and resumable.
@Suite(
    "Store migration: SQLite catalog into PostgreSQL",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct StoreMigrationTests {
    /// A catalog with a little of everything: tenants, calls with consent events, recordings (complete,
    /// with a paused span and a queued job), a transcript, and their audit entries.
    private func populate(_ catalog: Catalog, calls: Int, tenantName: String) throws -> Tenant {
        // With SIP settings and a redaction policy, so the copy is seen to keep those columns too.
        let policy = TenantPolicy(
            sip: TenantSIPSettings(allow: [try #require(AddressBlock("192.0.2.0/24"))], tenantAddresses: ["acme.example"]),
            redact: TenantRedaction(categories: [.payment, .contact]))
        let tenant = try catalog.addTenant(name: tenantName, policy: policy).tenant
        for index in 0..<calls {
            let call = try catalog.registerCall(tenantID: tenant.id, externalID: "\(tenantName)-\(index)")
            _ = try catalog.recordConsentEvent(callID: call.id, kind: .consent, method: .dtmf)
            let recording = try catalog.createRecording(
                callID: call.id, track: .caller, codec: .opus, sampleRate: 16_000, path: "r/\(call.id).cvr")
            _ = try catalog.addPausedSpan(callID: call.id, recordingID: recording.id, startMs: 100, endMs: 200)
            _ = try catalog.completeRecording(id: recording.id, durationMs: 5_000, bytes: 4_096, transcriptionEngine: "whisper")
            if index.isMultiple(of: 2) {
                try catalog.insertTranscript(
                    TranscriptRecord(
                        id: UUID().uuidString.lowercased(), callId: call.id, tenantId: tenant.id, engine: "whisper",
                        path: "t/\(call.id).cvt", createdAt: Date(), expiresAt: Date().addingTimeInterval(86_400)),
                    actor: "test")
            }
            try catalog.endCall(id: call.id)
        }
        // A console operator with a role and a TOTP second factor that has accepted a code.
        let name = "op-" + tenantName
        _ = try catalog.addOperator(
            name: name, passwordHash: "scrypt$1024$8$1$00$00", globalAdmin: false, roles: [tenant.id: .admin], actor: "test",
            at: Date())
        try catalog.setOperatorTOTP(name: name, secret: .sealed(Array(1...49)), actor: "test", at: Date())
        #expect(try catalog.acceptOperatorTOTPStep(name: name, step: 57_000_000))
        return tenant
    }

    @Test func aCatalogIsCopiedWithItsIdsAndChainAndASecondRunCopiesOnlyWhatIsNew() async throws {
        let directory = try CatalogTestDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let source = try Catalog(directory: directory.path)
        let tenant = try populate(source, calls: 25, tenantName: "acme")
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let target = try await PostgresCatalog.open(server.settings(database: database), logger: PostgresServer.quietLogger)

        let first = try await StoreMigration.copy(from: source, to: target, batchSize: 7)
        #expect(first.verified, "\(first.mismatches)")
        let counts = Dictionary(uniqueKeysWithValues: first.tables.map { ($0.table, $0) })
        #expect(counts["calls"]?.copied == 25 && counts["recordings"]?.target == 25 && counts["jobs"]?.target == 25)
        #expect(counts["transcripts"]?.target == 13 && counts["consent_events"]?.target == 25)
        #expect(first.tables.allSatisfy { $0.source == $0.target && $0.copied == $0.source })
        guard case .intact(let entries, let head) = try source.auditLog.verify() else {
            Issue.record("the source chain does not verify")
            return
        }
        #expect(first.auditEntries == entries)
        #expect(try await target.audit.verify() == .intact(entries: entries, headHash: head))

        // The rows read back through the PostgreSQL catalog as SQLite has them.
        let copiedTenant = try await target.tenant(id: tenant.id)
        #expect(copiedTenant.name == "acme" && copiedTenant.policy == tenant.policy)
        #expect(abs(copiedTenant.createdAt.timeIntervalSince(tenant.createdAt)) < 0.001)
        let copiedOperator = try #require(try await target.operatorCredentials(name: "op-acme"))
        #expect(copiedOperator.account.roles == [tenant.id: .admin] && copiedOperator.passwordHash == "scrypt$1024$8$1$00$00")
        #expect(copiedOperator.totp?.secret == .sealed(Array(1...49)) && copiedOperator.totp?.lastStep == 57_000_000)
        #expect(try await !target.acceptOperatorTOTPStep(name: "op-acme", step: 57_000_000), "the last step is kept: no replay")
        #expect(try await target.acceptOperatorTOTPStep(name: "op-acme", step: 57_000_001))
        let call = try #require(try source.call(tenantID: tenant.id, externalID: "acme-3"))
        let copiedCall = try await target.call(id: call.id, tenantID: tenant.id)
        #expect(copiedCall.externalId == "acme-3" && copiedCall.endedAt != nil)
        // New rows after the copy get ids past the copied ones (identity sequences moved).
        #expect(
            try server.psql(database: database, "SELECT last_value >= 25 FROM consent_events_id_seq") == "t")
        // The chain goes on from the copied head on PostgreSQL.
        let next = try await target.audit.append(AuditEvent(actor: "test", action: .tenantCreated, tenantID: "x"))
        #expect(next.seq == Int64(entries + 1) && Array(next.prevHash) == head)

        // A second run after more calls were recorded copies only those (and the entry appended above
        // makes the PostgreSQL chain no longer a beginning of SQLite's: refused, nothing copied).
        _ = try populate(source, calls: 3, tenantName: "later")
        do {
            _ = try await StoreMigration.copy(from: source, to: target)
            Issue.record("a database with entries of its own was migrated into")
        } catch {
            #expect(error.code == .duplicate && error.message.contains("another directory's database"), "\(error)")
        }
        #expect(try server.psql(database: database, "SELECT count(*) FROM tenants") == "1")
        await target.close()
    }

    @Test func anInterruptedCopyIsFinishedByRunningItAgain() async throws {
        let directory = try CatalogTestDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let source = try Catalog(directory: directory.path)
        _ = try populate(source, calls: 10, tenantName: "acme")
        let server = try PostgresServer.shared()
        let database = try await server.createDatabaseOffPool()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let target = try await PostgresCatalog.open(server.settings(database: database), logger: PostgresServer.quietLogger)
        // As a run killed part-way leaves it: some tables copied, some in part, the head not moved.
        let first = try await StoreMigration.copy(from: source, to: target)
        #expect(first.verified)
        try server.psql(
            database: database,
            """
            DELETE FROM transcripts WHERE ctid IN (SELECT ctid FROM transcripts LIMIT 2);
            DELETE FROM jobs;
            """)
        _ = try populate(source, calls: 4, tenantName: "later")
        let second = try await StoreMigration.copy(from: source, to: target)
        #expect(second.verified, "\(second.mismatches)")
        let copied = Dictionary(uniqueKeysWithValues: second.tables.map { ($0.table, $0.copied) })
        #expect(copied["tenants"] == 1 && copied["calls"] == 4 && copied["jobs"] == 14 && copied["transcripts"] == 4)
        #expect(try await target.audit.verify().isIntact)
        await target.close()
    }
}
