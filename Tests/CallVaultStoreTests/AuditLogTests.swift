import CallVaultCrypto
import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

@Suite struct AuditLogTests {
    /// A catalog with `count` audit entries and its directory (the caller removes it).
    private func catalogWithEntries(_ count: Int) throws -> (directory: CatalogTestDirectory, catalog: Catalog) {
        let directory = try CatalogTestDirectory()
        let catalog = try Catalog(directory: directory.path)
        for index in 1...count {
            try catalog.auditLog.append(
                actor: "test",
                action: .recordingExported,
                tenantID: "t\(index % 2)",
                subjectID: "r\(index)",
                details: ["format": "wav", "index": String(index)]
            )
        }
        return (directory, catalog)
    }

    /// Runs raw SQL on the file through a separate connection, as an attacker with file access would,
    /// after dropping the append-only triggers.
    private func tamper(_ directory: CatalogTestDirectory, _ sql: String) throws {
        let queue = try DatabaseQueue(path: directory.catalogPath)
        try queue.write { db in
            try db.execute(
                sql: "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete"
            )
            try db.execute(sql: sql)
        }
    }

    @Test func anUntouchedChainVerifies() throws {
        let fixture = try catalogWithEntries(6)
        defer { fixture.directory.remove() }
        let catalog = fixture.catalog
        let entries = try catalog.auditLog.entries()
        #expect(entries.map(\.seq) == [1, 2, 3, 4, 5, 6])
        #expect(Array(entries[0].prevHash) == AuditLog.genesisHash)
        for (previous, next) in zip(entries, entries.dropFirst()) {
            #expect(next.prevHash == previous.hash)
        }
        #expect(try catalog.auditLog.verify() == .intact(entries: 6, headHash: Array(entries[5].hash)))
        #expect(entries[2].detailValues == ["format": "wav", "index": "3"])
    }

    @Test func anEmptyLogVerifies() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(try catalog.auditLog.verify() == .intact(entries: 0, headHash: AuditLog.genesisHash))
    }

    @Test func eachHashCoversThePreviousHashAndTheEntry() throws {
        let fixture = try catalogWithEntries(2)
        defer { fixture.directory.remove() }
        let catalog = fixture.catalog
        let second = try #require(try catalog.auditLog.entries().last)
        let atText = try #require(
            try catalog.pool.read { db in
                try String.fetchOne(db, sql: "SELECT at FROM audit_log WHERE seq = 2")
            }
        )
        let fields = AuditLog.CanonicalFields(
            at: atText,
            actor: second.actor,
            action: second.action.rawValue,
            tenantID: second.tenantId,
            subjectID: second.subjectId,
            details: second.details
        )
        let expected = Digest.sha256(Array(second.prevHash) + fields.encoded())
        #expect(Array(second.hash) == Array(expected))
    }

    @Test func triggersRefuseUpdateAndDelete() throws {
        let fixture = try catalogWithEntries(3)
        defer { fixture.directory.remove() }
        let catalog = fixture.catalog
        let update = #expect(throws: DatabaseError.self) {
            try catalog.pool.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2") }
        }
        #expect(update?.message?.contains("append-only") == true)
        #expect(throws: DatabaseError.self) {
            try catalog.pool.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE seq = 3") }
        }
        #expect(try catalog.auditLog.entries().map(\.actor) == ["test", "test", "test"])
        #expect(try catalog.auditLog.verify().isIntact)
    }

    @Test func anEditedEntryIsFoundAtItsSeq() throws {
        let (directory, catalog) = try catalogWithEntries(6)
        defer { directory.remove() }
        try tamper(directory, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
        #expect(try catalog.auditLog.verify() == .broken(seq: 4, reason: .edited, verifiedEntries: 3))
    }

    @Test func editedDetailsAreFound() throws {
        let (directory, catalog) = try catalogWithEntries(5)
        defer { directory.remove() }
        try tamper(directory, #"UPDATE audit_log SET details = '{"format":"flac","index":"2"}' WHERE seq = 2"#)
        #expect(try catalog.auditLog.verify() == .broken(seq: 2, reason: .edited, verifiedEntries: 1))
    }

    @Test func aDeletedEntryIsFoundAtItsSeq() throws {
        let (directory, catalog) = try catalogWithEntries(6)
        defer { directory.remove() }
        try tamper(directory, "DELETE FROM audit_log WHERE seq = 3")
        #expect(try catalog.auditLog.verify() == .broken(seq: 3, reason: .removed, verifiedEntries: 2))
    }

    @Test func deletingTheFirstEntryIsFound() throws {
        let (directory, catalog) = try catalogWithEntries(3)
        defer { directory.remove() }
        try tamper(directory, "DELETE FROM audit_log WHERE seq = 1")
        #expect(try catalog.auditLog.verify() == .broken(seq: 1, reason: .removed, verifiedEntries: 0))
    }

    @Test func aDeletionHiddenByRenumberingIsFound() throws {
        let (directory, catalog) = try catalogWithEntries(6)
        defer { directory.remove() }
        try tamper(directory, "DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
        #expect(try catalog.auditLog.verify() == .broken(seq: 3, reason: .chainBroken, verifiedEntries: 2))
    }

    @Test func swappedEntriesAreFoundAtTheFirstMovedSeq() throws {
        let (directory, catalog) = try catalogWithEntries(6)
        defer { directory.remove() }
        // Swap the rows at seq 4 and 5: every column but the position moves.
        try tamper(
            directory,
            """
            UPDATE audit_log SET seq = -4 WHERE seq = 4;
            UPDATE audit_log SET seq = 4 WHERE seq = 5;
            UPDATE audit_log SET seq = 5 WHERE seq = -4;
            """
        )
        #expect(try catalog.auditLog.verify() == .broken(seq: 4, reason: .reordered, verifiedEntries: 3))
    }

    @Test func anEntryAppendedInAFailedTransactionIsRolledBack() throws {
        let fixture = try catalogWithEntries(2)
        defer { fixture.directory.remove() }
        let catalog = fixture.catalog
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try catalog.pool.write { db in
                try AuditLog.append(in: db, actor: "test", action: .keyDestroyed, subjectID: "k1")
                throw Abort()
            }
        }
        #expect(try catalog.auditLog.entries().count == 2)
        _ = try catalog.pool.write { db in
            try AuditLog.append(in: db, actor: "test", action: .keyDestroyed, subjectID: "k1")
        }
        #expect(
            try catalog.auditLog.verify()
                == .intact(
                    entries: 3,
                    headHash: Array(try #require(try catalog.auditLog.entries().last).hash)
                )
        )
    }

    @Test func entriesFilterByTenantAndPage() throws {
        let fixture = try catalogWithEntries(6)
        defer { fixture.directory.remove() }
        let catalog = fixture.catalog
        #expect(try catalog.auditLog.entries(tenantID: "t1").map(\.seq) == [1, 3, 5])
        #expect(try catalog.auditLog.entries(afterSeq: 2, limit: 2).map(\.seq) == [3, 4])
    }

    @Test func everyEditAndEveryDeletionIsFoundAtExactlyItsSeq() throws {
        let count = 8
        for target in 1...count {
            for (sql, reason) in [
                ("UPDATE audit_log SET subject_id = 'forged' WHERE seq = \(target)", AuditBreak.edited),
                ("UPDATE audit_log SET at = '2001-01-01 00:00:00.000' WHERE seq = \(target)", .edited),
                ("UPDATE audit_log SET tenant_id = NULL WHERE seq = \(target)", .edited),
                ("DELETE FROM audit_log WHERE seq = \(target)", .removed),
            ] {
                let fixture = try catalogWithEntries(count)
                defer { fixture.directory.remove() }
                let headBefore = Array(try lastHash(fixture.catalog))
                try tamper(fixture.directory, sql)
                let result = try fixture.catalog.auditLog.verify()
                if target == count, reason == .removed {
                    // A cut-off tail leaves a valid shorter chain: only a head hash kept elsewhere shows it.
                    guard case .intact(let entries, let head) = result else {
                        Issue.record("expected a shorter intact chain, got \(result)")
                        continue
                    }
                    #expect(entries == count - 1)
                    #expect(head != headBefore)
                } else {
                    #expect(
                        result == .broken(seq: Int64(target), reason: reason, verifiedEntries: target - 1),
                        "\(sql)"
                    )
                }
            }
        }
    }

    @Test func concurrentAppendsKeepOneUnbrokenChain() async throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<25 {
                        try catalog.auditLog.append(
                            actor: "worker\(worker)",
                            action: .consentEvent,
                            subjectID: "c\(worker)-\(index)"
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        let entries = try catalog.auditLog.entries()
        #expect(entries.map(\.seq) == Array(1...100))
        #expect(Set(entries.compactMap(\.subjectId)).count == 100)
        #expect(try catalog.auditLog.verify() == .intact(entries: 100, headHash: Array(try lastHash(catalog))))
    }

    @Test func appendingOutsideATransactionIsRefused() throws {
        let fixture = try catalogWithEntries(1)
        defer { fixture.directory.remove() }
        let error = #expect(throws: CatalogError.self) {
            try fixture.catalog.pool.writeWithoutTransaction { db in
                try AuditLog.append(in: db, actor: "test", action: .keyDestroyed)
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(try fixture.catalog.auditLog.entries().count == 1)
    }

    private func lastHash(_ catalog: Catalog) throws -> Data {
        try #require(try catalog.auditLog.entries().last).hash
    }

    @Test func detailsAreCanonicalJSONThatParsesBackExactly() throws {
        let details = ["z": "last", "a": "quote \" backslash \\ slash / newline \n tab \t bell \u{07} é 🎧", "m": ""]
        let text = try AuditLog.canonicalJSON(details)
        #expect(text.hasPrefix("{\"a\":") && text.contains(",\"m\":\"\",\"z\":\"last\"}"))
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(parsed == details)
        #expect(try AuditLog.canonicalJSON([:]) == "{}")
    }
}
