import CallVaultCrypto
import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultRetention

@Suite("Sweeper")
struct SweeperTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    @Test("an expired recording loses its key, its file and its row's life; a younger one stays readable")
    func shredsOnlyWhatExpired() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let old = try fixture.record(at: t0)
        let young = try fixture.record(at: days(20, after: t0))
        #expect(fixture.isReadable(old) && fixture.isReadable(young))

        let report = try await fixture.sweeper.sweep(now: days(30.5, after: t0))

        #expect(report.recordingsShredded == [old.id])
        #expect(report.failures.isEmpty)
        #expect(report.filesDeleted == 1 && report.bytesFreed > 32_000)
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/" + old.path))
        #expect(try fixture.catalog.recording(id: old.id).state == .shredded)
        #expect(try fixture.keyStore.dataKeyStatus(ownerID: old.id, tenantID: fixture.tenantID) != .unknown)
        if case .shredded(_, let reason) = try fixture.keyStore.dataKeyStatus(ownerID: old.id, tenantID: fixture.tenantID)
        {
            #expect(reason == .expired)
        } else {
            Issue.record("the old recording's data key is not shredded")
        }
        #expect(fixture.isReadable(young))
        #expect(try fixture.catalog.recording(id: young.id).state != .shredded)
    }

    @Test("every part of a recording continued after a crash is deleted, and nothing beside it")
    func deletesEveryPart() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let old = try fixture.record(at: t0)
        let base = fixture.directory.path + "/" + String(old.path.dropLast(4))
        for name in [".part1.cvr", ".part2.cvr"] {
            #expect(FileManager.default.createFile(atPath: base + name, contents: Data(repeating: 1, count: 100)))
        }
        let neighbour = fixture.directory.path + "/recordings/\(fixture.tenantID)/unrelated.cvr"
        #expect(FileManager.default.createFile(atPath: neighbour, contents: Data([1])))
        let report = try await fixture.sweeper.sweep(now: days(31, after: t0))
        #expect(report.filesDeleted == 3)
        for name in [".cvr", ".part1.cvr", ".part2.cvr"] {
            #expect(!FileManager.default.fileExists(atPath: base + name))
        }
        #expect(FileManager.default.fileExists(atPath: neighbour))
    }

    @Test("a recording is unreadable at its own expiry instant, before its day key's day has passed")
    func expiresAtTheInstantNotTheDay() async throws {
        let fixture = try RetentionFixture(voiceDays: 1)
        // Created at 00:10 UTC: expires at 00:10 the next day, while its day key lives until that day ends.
        let midnight = Date(timeIntervalSince1970: 1_780_012_800)
        let recording = try fixture.record(at: midnight.addingTimeInterval(600))
        let report = try await fixture.sweeper.sweep(now: days(1, after: midnight).addingTimeInterval(3_600))
        #expect(report.dayKeysDestroyed == 0)
        #expect(report.recordingsShredded == [recording.id])
        #expect(!fixture.isReadable(recording))
    }

    @Test("a dry run reports the plan and changes nothing")
    func dryRunChangesNothing() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let old = try fixture.record(at: t0)
        let auditBefore = try fixture.catalog.auditLog.entries().count
        let report = try await fixture.sweeper.sweep(now: days(40, after: t0), dryRun: true)
        #expect(report.dryRun && report.recordingsShredded == [old.id] && report.dayKeysDestroyed == 1)
        #expect(report.filesDeleted == 1)
        #expect(fixture.isReadable(old))
        #expect(try fixture.catalog.recording(id: old.id).state != .shredded)
        #expect(try fixture.catalog.auditLog.entries().count == auditBefore)
    }

    @Test("a held recording survives its expiry; cleared after expiry, the next sweep shreds it")
    func legalHold() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let held = try fixture.record(at: t0)
        let hold = LegalHold(catalog: fixture.catalog, keyStore: fixture.keyStore)
        try await hold.set(recordingID: held.id, reason: "case 17", at: days(1, after: t0))

        let first = try await fixture.sweeper.sweep(now: days(45, after: t0))
        #expect(first.recordingsShredded.isEmpty && first.dayKeysDestroyed == 1)
        #expect(fixture.isReadable(held))

        let release = try await hold.clear(recordingID: held.id, at: days(46, after: t0))
        #expect(release == .shredded)
        #expect(!fixture.isReadable(held))
        let second = try await fixture.sweeper.sweep(now: days(46, after: t0))
        #expect(second.recordingsShredded == [held.id])
        #expect(try fixture.catalog.recording(id: held.id).state == .shredded)
        let actions = try fixture.catalog.auditLog.entries().map(\.action)
        #expect(actions.contains(.holdSet) && actions.contains(.holdCleared))
    }

    @Test("a sweep interrupted after destroying keys is finished by the next one; sweeping again does nothing")
    func interruptedSweepIsFinished() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let old = try fixture.record(at: t0)
        let now = days(31, after: t0)
        // The first sweep died right after the key step: keys gone, file and row untouched.
        try fixture.keyStore.destroyDayKeys(
            expiringBefore: CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970)))
        #expect(!fixture.isReadable(old))
        #expect(FileManager.default.fileExists(atPath: fixture.directory.path + "/" + old.path))

        let resumed = try await fixture.sweeper.sweep(now: now)
        #expect(resumed.recordingsShredded == [old.id] && resumed.filesDeleted == 1 && resumed.failures.isEmpty)
        let again = try await fixture.sweeper.sweep(now: now)
        #expect(again.recordingsShredded.isEmpty && again.dayKeysDestroyed == 0 && again.filesDeleted == 0)
    }

    @Test("shredding proof: a backup taken before the sweep cannot be opened, and the key bytes are gone from disk")
    func backupIsUnreadableAfterSweep() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let old = try fixture.record(at: t0, seconds: 3)
        let backup = fixture.root + "/backup"
        try FileManager.default.copyItem(atPath: fixture.directory.path, toPath: backup)
        let wrapped = try wrappedDataKey(of: old.id, keyStorePath: fixture.directory.keyStorePath)
        #expect(wrapped.count >= 32)
        #expect(fixture.isReadable(old, dataDirectory: backup))

        let report = try await fixture.sweeper.sweep(now: days(31, after: t0))
        #expect(report.recordingsShredded == [old.id])

        // The backup's sealed file is still on disk, but the live key store cannot open it.
        #expect(FileManager.default.fileExists(atPath: backup + "/" + old.path))
        #expect(!fixture.isReadable(old, dataDirectory: backup))
        #expect(throws: KeyStoreError.self) {
            _ = try fixture.keyStore.dataKey(ownerID: old.id, tenantID: fixture.tenantID)
        }
        // Neither the key store nor its WAL still holds the wrapped key's bytes.
        for suffix in ["", "-wal", "-shm"] {
            let path = fixture.directory.keyStorePath + suffix
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(!contains([UInt8](data), wrapped), "wrapped key bytes survive in \(suffix.isEmpty ? "keys.sqlite" : suffix)")
        }
    }

    /// The wrapped form of one owner's data key as stored in the key store file (read-only access).
    private func wrappedDataKey(of owner: String, keyStorePath: String) throws -> [UInt8] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: keyStorePath, configuration: configuration)
        let data = try queue.read { db in
            try Data.fetchOne(db, sql: "SELECT wrapped FROM data_key WHERE owner_id = ?", arguments: [owner])
        }
        return [UInt8](try #require(data))
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
