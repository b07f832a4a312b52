import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// An audit store under test on a fresh log of one backend, and ways around its interface: another
/// store on the same log (another node), and raw SQL on its tables.
struct AuditFixture: Sendable {
    let backend: Backend
    let store: any AuditStore
    /// Opens a second store on the same log: another `Catalog` on the same file (SQLite), another
    /// `PostgresAuditStore` with its own pool (PostgreSQL, a second node). The caller closes it.
    let openAnother: @Sendable () async throws -> (store: any AuditStore, close: @Sendable () async -> Void)
    /// Runs raw SQL on the log's database through a connection of its own, as someone with access to
    /// the file or the database would. `aroundTriggers` first disables the append-only triggers.
    let rawSQL: @Sendable (_ sql: String, _ aroundTriggers: Bool) throws -> Void
    let tearDown: @Sendable () async -> Void

    static func make(_ backend: Backend, maximumConnections: Int = 10) async throws -> AuditFixture {
        switch backend {
        case .sqlite:
            let directory = try CatalogTestDirectory()
            let catalog = try Catalog(directory: directory.path)
            let path = directory.catalogPath
            return AuditFixture(
                backend: backend,
                store: SQLiteAuditStore(catalog: catalog),
                openAnother: {
                    let other = try Catalog(path: path)
                    return (SQLiteAuditStore(catalog: other), {})
                },
                rawSQL: { sql, aroundTriggers in
                    let queue = try DatabaseQueue(path: path)
                    try queue.write { db in
                        if aroundTriggers {
                            try db.execute(
                                sql:
                                    "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete"
                            )
                        }
                        try db.execute(sql: sql)
                    }
                },
                tearDown: { [directoryPath = directory.path] in
                    try? FileManager.default.removeItem(atPath: directoryPath)
                }
            )
        case .postgres:
            let server = try PostgresServer.shared()
            let database = try await server.createDatabaseOffPool()
            let settings = server.settings(database: database, maximumConnections: maximumConnections)
            let store = try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
            return AuditFixture(
                backend: backend,
                store: store,
                openAnother: {
                    let other = try await PostgresAuditStore.open(settings, logger: PostgresServer.quietLogger)
                    return (other, { await other.close() })
                },
                rawSQL: { sql, aroundTriggers in
                    if aroundTriggers {
                        try server.psql(
                            database: database,
                            "ALTER TABLE audit_log DISABLE TRIGGER USER; \(sql); ALTER TABLE audit_log ENABLE TRIGGER USER"
                        )
                    } else {
                        try server.psql(database: database, sql)
                    }
                },
                tearDown: {
                    await store.close()
                    _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
                }
            )
        }
    }

    /// Runs `body` on a fresh log of `backend`, then removes the store (also when `body` throws).
    static func run(_ backend: Backend, maximumConnections: Int = 10, _ body: (AuditFixture) async throws -> Void)
        async throws
    {
        let fixture = try await make(backend, maximumConnections: maximumConnections)
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    /// Appends `count` entries alternating between tenants t1 and t0, subjects r1, r2, …
    @discardableResult
    func appendEntries(_ count: Int) async throws -> [AuditEntry] {
        var appended: [AuditEntry] = []
        for index in 1...count {
            appended.append(
                try await store.append(
                    AuditEvent(
                        actor: "test",
                        action: .recordingExported,
                        tenantID: "t\(index % 2)",
                        subjectID: "r\(index)",
                        details: ["format": "wav", "index": String(index)]
                    )
                )
            )
        }
        return appended
    }
}

/// The error `body` threw, or nil when it did not throw.
func auditError<T>(_ body: () async throws(AuditStoreError) -> T) async -> AuditStoreError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// A change made to the log's rows around the store, and where and why `verify` must report it.
struct AuditTamper: Sendable, CustomTestStringConvertible {
    let name: String
    /// Raw SQL on a log of 8 entries; the same statements on SQLite and PostgreSQL.
    let sql: String
    /// The verdict: broken at `seq` for `reason`, or nil for "a valid shorter chain" (a cut-off tail).
    let seq: Int64?
    let reason: AuditBreak?

    var testDescription: String { name }

    static let all: [AuditTamper] = [
        AuditTamper(
            name: "edited actor",
            sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4",
            seq: 4,
            reason: .edited
        ),
        AuditTamper(
            name: "edited details",
            sql: #"UPDATE audit_log SET details = '{"format":"flac","index":"2"}' WHERE seq = 2"#,
            seq: 2,
            reason: .edited
        ),
        AuditTamper(
            name: "edited time",
            sql: "UPDATE audit_log SET at = '2001-01-01 00:00:00.000' WHERE seq = 6",
            seq: 6,
            reason: .edited
        ),
        AuditTamper(
            name: "tenant removed",
            sql: "UPDATE audit_log SET tenant_id = NULL WHERE seq = 1",
            seq: 1,
            reason: .edited
        ),
        AuditTamper(
            name: "subject forged",
            sql: "UPDATE audit_log SET subject_id = 'forged' WHERE seq = 8",
            seq: 8,
            reason: .edited
        ),
        AuditTamper(name: "deleted entry", sql: "DELETE FROM audit_log WHERE seq = 3", seq: 3, reason: .removed),
        AuditTamper(name: "deleted first entry", sql: "DELETE FROM audit_log WHERE seq = 1", seq: 1, reason: .removed),
        AuditTamper(name: "deleted last entry", sql: "DELETE FROM audit_log WHERE seq = 8", seq: nil, reason: nil),
        AuditTamper(
            name: "deletion hidden by renumbering",
            sql: "DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = -seq WHERE seq > 3; "
                + "UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0",
            seq: 3,
            reason: .chainBroken
        ),
        AuditTamper(
            name: "two entries swapped",
            sql: "UPDATE audit_log SET seq = -4 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 5; "
                + "UPDATE audit_log SET seq = 5 WHERE seq = -4",
            seq: 4,
            reason: .reordered
        ),
    ]
}

/// The behaviour every ``AuditStore`` backend must have: the same tests on SQLite and on PostgreSQL.
@Suite("Audit store conformance (SQLite and PostgreSQL)", .timeLimit(.minutes(15)))
struct AuditStoreConformanceTests {
    @Test(arguments: Backend.all)
    func appendsListAndVerifyOneChain(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            let store = fixture.store
            #expect(try await store.verify() == .intact(entries: 0, headHash: AuditLog.genesisHash))
            #expect(try await store.entries().isEmpty)

            let at = Date(timeIntervalSince1970: 1_780_000_000.123_456)
            let first = try await store.append(
                AuditEvent(
                    actor: "operator",
                    action: .holdSet,
                    tenantID: "t1",
                    subjectID: "call-1",
                    details: ["reason": "case 7", "by": "legal"],
                    at: at
                )
            )
            #expect(first.seq == 1 && Array(first.prevHash) == AuditLog.genesisHash)
            #expect(first.details == #"{"by":"legal","reason":"case 7"}"#, "details are canonical JSON")
            #expect(
                abs(first.at.timeIntervalSince1970 - 1_780_000_000.123) < 0.000_5,
                "times are kept to the millisecond"
            )
            let fields = AuditLog.CanonicalFields(
                at: "2026-05-28 20:26:40.123",
                actor: "operator",
                action: "hold.set",
                tenantID: "t1",
                subjectID: "call-1",
                details: first.details
            )
            #expect(Array(first.hash) == AuditLog.entryHash(prevHash: AuditLog.genesisHash, fields: fields))

            let appended = [first] + (try await fixture.appendEntries(5))
            let listed = try await store.entries()
            #expect(listed == appended, "an entry reads back exactly as its append returned it")
            #expect(listed.map(\.seq) == [1, 2, 3, 4, 5, 6])
            for (previous, next) in zip(listed, listed.dropFirst()) {
                #expect(next.prevHash == previous.hash)
            }
            #expect(try await store.verify() == .intact(entries: 6, headHash: Array(appended[5].hash)))
            #expect(listed[3].detailValues == ["format": "wav", "index": "3"])

            #expect(try await store.entries(tenantID: "t1").map(\.seq) == [1, 2, 4, 6])
            #expect(try await store.entries(tenantID: "t0", afterSeq: 2, limit: 1).map(\.seq) == [3])
            #expect(try await store.entries(tenantID: nil, afterSeq: 2, limit: 2).map(\.seq) == [3, 4])
            #expect(try await store.entries(tenantID: nil, afterSeq: 6, limit: nil).isEmpty)
            #expect(try await store.entries(tenantID: "nobody").isEmpty)
            let refused = await auditError { () async throws(AuditStoreError) in
                try await store.entries(tenantID: nil, afterSeq: 0, limit: -1)
            }
            #expect(refused?.code == .invalidArgument)
        }
    }

    @Test(arguments: Backend.all)
    func concurrentAppendersOnTwoNodesKeepOneUnbrokenChain(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            let other = try await fixture.openAnother()
            let stores = [fixture.store, other.store]
            let perAppender = 25
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<8 {
                    let store = stores[appender % 2]
                    group.addTask {
                        for index in 0..<perAppender {
                            _ = try await store.append(
                                AuditEvent(
                                    actor: "node\(appender % 2)",
                                    action: .consentEvent,
                                    tenantID: "t\(appender % 3)",
                                    subjectID: "c\(appender)-\(index)"
                                )
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            await other.close()
            let count = 8 * perAppender
            let entries = try await fixture.store.entries()
            #expect(entries.map(\.seq) == (1...Int64(count)).map { $0 }, "unique, consecutive sequence numbers")
            #expect(Set(entries.compactMap(\.subjectId)).count == count, "every append stored once")
            #expect(Set(entries.map(\.actor)) == ["node0", "node1"])
            var forks = 0
            for (previous, next) in zip(entries, entries.dropFirst()) where next.prevHash != previous.hash {
                forks += 1
            }
            #expect(forks == 0, "every entry links to the one before")
            #expect(
                try await fixture.store.verify() == .intact(entries: count, headHash: Array(entries[count - 1].hash))
            )
        }
    }

    @Test(arguments: Backend.all, AuditTamper.all)
    func verifyFindsAChangeMadeAroundTheStore(_ backend: Backend, _ tamper: AuditTamper) async throws {
        try await AuditFixture.run(backend) { fixture in
            let appended = try await fixture.appendEntries(8)
            try fixture.rawSQL(tamper.sql, true)
            let result = try await fixture.store.verify()
            if let seq = tamper.seq, let reason = tamper.reason {
                #expect(result == .broken(seq: seq, reason: reason, verifiedEntries: Int(seq) - 1))
            } else if backend == .postgres {
                // PostgreSQL moves the chain's head row (`audit_head`) with each append: a cut-off tail shows.
                #expect(result == .broken(seq: 8, reason: .removed, verifiedEntries: 7))
            } else {
                // SQLite keeps no head beside the chain: a cut-off tail leaves a valid shorter chain, which
                // only a head hash kept elsewhere shows (`audit verify --json` prints it).
                #expect(result == .intact(entries: 7, headHash: Array(appended[6].hash)))
            }
        }
    }

    @Test(arguments: Backend.all)
    func theLogRefusesUpdateAndDelete(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            let appended = try await fixture.appendEntries(3)
            #expect(throws: (any Error).self) {
                try fixture.rawSQL("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", false)
            }
            #expect(throws: (any Error).self) { try fixture.rawSQL("DELETE FROM audit_log WHERE seq = 3", false) }
            #expect(try await fixture.store.entries() == appended)
            #expect(try await fixture.store.verify().isIntact)
            // After a refused change the chain goes on from the same head.
            let next = try await fixture.store.append(AuditEvent(actor: "test", action: .keyDestroyed, subjectID: "k1"))
            #expect(next.seq == 4 && next.prevHash == appended[2].hash)
            #expect(try await fixture.store.verify() == .intact(entries: 4, headHash: Array(next.hash)))
        }
    }
}

/// What ties the two backends together: one encoding and one hash chain.
@Suite(
    "Audit chains agree across backends",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15))
)
struct AuditCrossBackendTests {
    /// The same events, at fixed times, with details that need escaping and an absent tenant.
    static let events: [AuditEvent] = (0..<12).map(event)

    private static func event(_ index: Int) -> AuditEvent {
        let actor: String = index % 3 == 0 ? "sweeper" : "operator ✓"
        let action: AuditAction = index % 2 == 0 ? .recordingShredded : .consentEvent
        let tenant: String? = index % 4 == 0 ? nil : "tenant-\(index % 3)"
        let subject: String? = index % 5 == 0 ? nil : "subject-\(index)"
        let details: [String: String] = index % 2 == 0 ? [:] : ["quote": "\"x\"\n", "é": "🎧", "n": String(index)]
        let at = Date(timeIntervalSince1970: 1_780_000_000 + Double(index) * 1.5)
        return AuditEvent(actor: actor, action: action, tenantID: tenant, subjectID: subject, details: details, at: at)
    }

    @Test func theSameEntriesGetTheSameHashesOnBothBackends() async throws {
        var chains: [Backend: [AuditEntry]] = [:]
        var verdicts: [Backend: AuditVerification] = [:]
        for backend in [Backend.sqlite, .postgres] {
            try await AuditFixture.run(backend) { fixture in
                var entries: [AuditEntry] = []
                for event in Self.events { entries.append(try await fixture.store.append(event)) }
                chains[backend] = entries
                verdicts[backend] = try await fixture.store.verify()
            }
        }
        let sqlite = try #require(chains[.sqlite])
        let postgres = try #require(chains[.postgres])
        #expect(sqlite.count == Self.events.count)
        #expect(sqlite == postgres, "the same entries, hashes and links on both backends")
        #expect(verdicts[.sqlite] == verdicts[.postgres])
        #expect(verdicts[.sqlite] == .intact(entries: Self.events.count, headHash: Array(sqlite.last?.hash ?? Data())))
    }

    @Test func aChainWrittenOnSQLiteVerifiesOnPostgreSQLAndGoesOn() async throws {
        try await AuditFixture.run(.sqlite) { sqlite in
            var written: [AuditEntry] = []
            for event in Self.events { written.append(try await sqlite.store.append(event)) }
            let headHash = Array(try #require(written.last).hash)
            try await AuditFixture.run(.postgres) { postgres in
                // Copy the stored rows, as they are, into PostgreSQL's log and move its head.
                let rows = try await Self.rawRows(sqlite)
                try postgres.rawSQL(
                    "INSERT INTO audit_log (seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash) "
                        + "VALUES \(rows); UPDATE audit_head SET seq = \(written.count), "
                        + "hash = '\\x\(Self.hex(headHash))'::bytea WHERE id = 1",
                    false
                )
                #expect(try await postgres.store.verify() == .intact(entries: written.count, headHash: headHash))
                #expect(try await postgres.store.entries() == written)
                let next = try await postgres.store.append(AuditEvent(actor: "test", action: .keyDestroyed))
                #expect(next.seq == Int64(written.count + 1) && Array(next.prevHash) == headHash)
                #expect(try await postgres.store.verify().isIntact)
            }
        }
    }

    /// The SQLite log's rows as a PostgreSQL `VALUES` list (text as SQL literals, hashes as bytea).
    private static func rawRows(_ fixture: AuditFixture) async throws -> String {
        let store = try #require(fixture.store as? SQLiteAuditStore)
        return try store.catalog.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash FROM audit_log ORDER BY seq"
            ).map { row in
                func text(_ column: String) -> String {
                    guard let value = row[column] as String? else { return "NULL" }
                    return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
                }
                func bytes(_ column: String) -> String { "'\\x\(hex(Array(row[column] as Data)))'::bytea" }
                let seq: Int64 = row["seq"]
                return "(\(seq), \(text("at")), \(text("actor")), \(text("action")), \(text("tenant_id")), "
                    + "\(text("subject_id")), \(text("details")), \(bytes("prev_hash")), \(bytes("hash")))"
            }.joined(separator: ", ")
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
