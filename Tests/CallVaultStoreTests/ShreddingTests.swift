import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@testable import CallVaultStore

@Suite struct ShreddingTests {
    let dayOne = try! CalendarDay("2026-12-01")
    let dayTwo = try! CalendarDay("2026-12-02")
    let dayThree = try! CalendarDay("2026-12-03")

    @Test func destroyingADayKeyShredsEveryDataKeyUnderIt() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        try store.createTenant("globex")
        for i in 0..<5 {
            _ = try store.newDataKey(tenantID: "acme", ownerID: "old-\(i)", kind: .voice, expiresOn: dayOne)
        }
        _ = try store.newDataKey(tenantID: "globex", ownerID: "globex-old", kind: .voice, expiresOn: dayOne)
        let live = try store.newDataKey(tenantID: "acme", ownerID: "new", kind: .voice, expiresOn: dayTwo)

        let preview = try store.dayKeysToDestroy(expiringBefore: dayTwo)
        #expect(
            bytes(of: try store.dataKey(ownerID: "old-0", tenantID: "acme")).count == 32,
            "a preview destroys nothing"
        )
        let destroyed = try store.destroyDayKeys(expiringBefore: dayTwo)
        #expect(destroyed == preview)
        #expect(destroyed.count == 2)
        let acme = try #require(destroyed.first { $0.tenantID == "acme" })
        #expect(acme.day == dayOne && acme.kind == .voice)
        #expect(acme.ownerIDs == (0..<5).map { "old-\($0)" })
        #expect(destroyed.first { $0.tenantID == "globex" }?.ownerIDs == ["globex-old"])

        for i in 0..<5 {
            #expect(errorCode { try store.dataKey(ownerID: "old-\(i)", tenantID: "acme") } == .dataKeyShredded)
            guard case .shredded(_, .expired) = try store.dataKeyStatus(ownerID: "old-\(i)", tenantID: "acme") else {
                Issue.record("old-\(i) is not reported shredded/expired")
                continue
            }
        }
        #expect(bytes(of: try store.dataKey(ownerID: "new", tenantID: "acme")) == bytes(of: live.key))
        let remaining = try store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM data_key")
        }
        #expect(remaining == 1, "the wrapped data keys are deleted with their day key")
        // Nothing may be created under a day that was already shredded, and sweeping again is a no-op.
        #expect(
            errorCode { try store.newDataKey(tenantID: "acme", ownerID: "late", kind: .voice, expiresOn: dayOne) }
                == .dayKeyDestroyed
        )
        #expect(try store.destroyDayKeys(expiringBefore: dayTwo).isEmpty)
    }

    /// No key cache: a key destroyed through one store (the sweeper's process) is gone at once for
    /// another store on the same file (the ingest or transcription process).
    @Test func destructionIsSeenAtOnceByAnotherStoreOnTheSameFile() throws {
        let temp = try TemporaryDirectory()
        let (directory, sweeper) = try temp.makeStore()
        let worker = try KeyStore(dataDirectory: directory, logger: Logger(label: "worker"))
        try sweeper.createTenant("acme")
        let created = try worker.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: dayOne)
        #expect(bytes(of: try worker.dataKey(ownerID: "rec-1", tenantID: "acme")) == bytes(of: created.key))
        #expect(bytes(of: try sweeper.dataKey(ownerID: "rec-1", tenantID: "acme")) == bytes(of: created.key))
        #expect(try sweeper.destroyDayKeys(expiringBefore: dayTwo).count == 1)
        #expect(errorCode { try worker.dataKey(ownerID: "rec-1", tenantID: "acme") } == .dataKeyShredded)
    }

    /// Two stores (two processes) creating keys for the same tenant, day and kind at once end up
    /// sharing one day key: writes are IMMEDIATE transactions and (tenant, day, kind) is unique.
    @Test func concurrentStoresShareOneDayKey() throws {
        let temp = try TemporaryDirectory()
        let (directory, first) = try temp.makeStore()
        let second = try KeyStore(dataDirectory: directory, logger: Logger(label: "second"), busyTimeout: 5)
        try first.createTenant("acme")
        let stores = [first, second]
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            do {
                _ = try stores[i % 2].newDataKey(tenantID: "acme", ownerID: "rec-\(i)", kind: .voice, expiresOn: dayOne)
            } catch {
                failures.withLock { $0.append("\(i): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let dayKeys = try first.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM day_key") }
        #expect(dayKeys == 1)
        for i in 0..<40 {
            #expect(try first.dataKey(ownerID: "rec-\(i)", tenantID: "acme").count == 32)
        }
    }

    @Test func kindFilterLeavesTheOtherKind() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "voice-1", kind: .voice, expiresOn: dayOne)
        let transcript = try store.newDataKey(
            tenantID: "acme",
            ownerID: "transcript-1",
            kind: .transcript,
            expiresOn: dayOne
        )
        let destroyed = try store.destroyDayKeys(expiringBefore: dayThree, kind: .voice)
        #expect(destroyed.map(\.ownerIDs) == [["voice-1"]])
        #expect(errorCode { try store.dataKey(ownerID: "voice-1", tenantID: "acme") } == .dataKeyShredded)
        #expect(bytes(of: try store.dataKey(ownerID: "transcript-1", tenantID: "acme")) == bytes(of: transcript.key))
    }

    @Test func erasingOneDataKeyLeavesItsSiblings() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "erase-me", kind: .voice, expiresOn: dayOne)
        let sibling = try store.newDataKey(tenantID: "acme", ownerID: "keep-me", kind: .voice, expiresOn: dayOne)
        #expect(errorCode { try store.destroyDataKey(ownerID: "erase-me", tenantID: "globex") } == .unknownDataKey)
        #expect(try store.destroyDataKey(ownerID: "erase-me", tenantID: "acme") == true)
        #expect(try store.destroyDataKey(ownerID: "erase-me", tenantID: "acme") == false)
        #expect(errorCode { try store.dataKey(ownerID: "erase-me", tenantID: "acme") } == .dataKeyShredded)
        guard case .shredded(_, .erased) = try store.dataKeyStatus(ownerID: "erase-me", tenantID: "acme") else {
            Issue.record("erased key not reported as erased")
            return
        }
        #expect(bytes(of: try store.dataKey(ownerID: "keep-me", tenantID: "acme")) == bytes(of: sibling.key))
        #expect(
            errorCode { try store.newDataKey(tenantID: "acme", ownerID: "erase-me", kind: .voice, expiresOn: dayTwo) }
                == .dataKeyExists,
            "an erased owner id is never reused"
        )
    }

    @Test func holdSurvivesDayKeyDestructionAndReleaseRewraps() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        let held = try store.newDataKey(tenantID: "acme", ownerID: "held", kind: .voice, expiresOn: dayOne)
        let overdue = try store.newDataKey(tenantID: "acme", ownerID: "overdue", kind: .voice, expiresOn: dayOne)
        _ = try store.newDataKey(tenantID: "acme", ownerID: "not-held", kind: .voice, expiresOn: dayOne)
        try store.placeHold(ownerID: "held", tenantID: "acme")
        try store.placeHold(ownerID: "held", tenantID: "acme")  // idempotent
        try store.placeHold(ownerID: "overdue", tenantID: "acme")
        #expect(
            try store.dataKeyStatus(ownerID: "held", tenantID: "acme")
                == .active(keyID: held.keyID, kind: .voice, expiresOn: dayOne, held: true)
        )
        #expect(errorCode { try store.destroyDataKey(ownerID: "held", tenantID: "acme") } == .onHold)

        let destroyed = try store.destroyDayKeys(expiringBefore: dayTwo)
        #expect(destroyed.flatMap(\.ownerIDs) == ["not-held"])
        #expect(bytes(of: try store.dataKey(ownerID: "held", tenantID: "acme")) == bytes(of: held.key))
        #expect(bytes(of: try store.dataKey(ownerID: "overdue", tenantID: "acme")) == bytes(of: overdue.key))

        // Released with a day still ahead: back under a (new) day key, same DEK.
        let release = try store.releaseHold(ownerID: "held", tenantID: "acme", expiresOn: dayThree, today: dayTwo)
        guard case .rewrapped(_, let expiresOn) = release else {
            Issue.record("release with a future day did not re-wrap: \(release)")
            return
        }
        #expect(expiresOn == dayThree)
        #expect(bytes(of: try store.dataKey(ownerID: "held", tenantID: "acme")) == bytes(of: held.key))
        #expect(errorCode { try store.releaseHold(ownerID: "held", tenantID: "acme", expiresOn: dayThree) } == .notHeld)
        // …and from then on it dies with that day key.
        #expect(try store.destroyDayKeys(expiringBefore: dayThree.adding(days: 1)).flatMap(\.ownerIDs) == ["held"])
        #expect(errorCode { try store.dataKey(ownerID: "held", tenantID: "acme") } == .dataKeyShredded)

        // Released after its day has passed: shredded at once.
        let late = try store.releaseHold(ownerID: "overdue", tenantID: "acme", expiresOn: dayOne, today: dayTwo)
        #expect(late == .shredded)
        #expect(errorCode { try store.dataKey(ownerID: "overdue", tenantID: "acme") } == .dataKeyShredded)
        #expect(errorCode { try store.placeHold(ownerID: "overdue", tenantID: "acme") } == .dataKeyShredded)
    }

    /// The guarantee behind "the key store overwrites freed pages": after shredding, the destroyed
    /// wrapped keys' bytes are in none of keys.sqlite, -wal, -shm; a live key's bytes are (control).
    @Test func shreddedKeyBytesAreGoneFromEveryFile() throws {
        let temp = try TemporaryDirectory()
        let (directory, store) = try temp.makeStore()
        try store.createTenant("acme")
        for i in 0..<20 {
            _ = try store.newDataKey(tenantID: "acme", ownerID: "old-\(i)", kind: .voice, expiresOn: dayOne)
        }
        _ = try store.newDataKey(tenantID: "acme", ownerID: "erased", kind: .voice, expiresOn: dayTwo)
        _ = try store.newDataKey(tenantID: "acme", ownerID: "live", kind: .voice, expiresOn: dayTwo)

        let (doomed, control) = try store.database.read { db -> ([[UInt8]], [UInt8]) in
            var doomed = try Data.fetchAll(
                db,
                sql: "SELECT wrapped FROM data_key WHERE expires_on = ?",
                arguments: [dayOne.description]
            )
            doomed += try Data.fetchAll(
                db,
                sql: "SELECT wrapped FROM day_key WHERE day = ?",
                arguments: [dayOne.description]
            )
            doomed += try Data.fetchAll(db, sql: "SELECT wrapped FROM data_key WHERE owner_id = 'erased'")
            let control = try #require(
                try Data.fetchOne(db, sql: "SELECT wrapped FROM data_key WHERE owner_id = 'live'")
            )
            return (doomed.map { [UInt8]($0) }, [UInt8](control))
        }
        #expect(doomed.count == 22)
        #expect(doomed.allSatisfy { $0.count >= 32 })

        // Before shredding the bytes are on disk somewhere (main file or WAL): the search works.
        let before = [directory.keyStorePath, directory.keyStorePath + "-wal"].compactMap(fileBytes)
        let allFoundBefore = doomed.allSatisfy { wrapped in before.contains { contains($0, wrapped) } }
        #expect(allFoundBefore, "the search must find every key before shredding")

        #expect(try store.destroyDayKeys(expiringBefore: dayTwo).count == 1)
        #expect(try store.destroyDataKey(ownerID: "erased", tenantID: "acme"))

        let main = try #require(fileBytes(directory.keyStorePath))
        let wal = fileBytes(directory.keyStorePath + "-wal") ?? []
        let shm = fileBytes(directory.keyStorePath + "-shm") ?? []
        #expect(wal.isEmpty, "the TRUNCATE checkpoint leaves an empty WAL")
        // Booleans, not the byte arrays, go into the expectations: a failure must not print key material.
        for (i, wrapped) in doomed.enumerated() {
            let inMain = contains(main, wrapped)
            let inWAL = contains(wal, wrapped)
            let inSHM = contains(shm, wrapped)
            #expect(!inMain, "destroyed key \(i) still in keys.sqlite")
            #expect(!inWAL, "destroyed key \(i) still in keys.sqlite-wal")
            #expect(!inSHM, "destroyed key \(i) still in keys.sqlite-shm")
        }
        let controlFound = contains(main, control)
        #expect(controlFound, "control: the live key's wrapped bytes must be found in keys.sqlite")
        #expect(try store.dataKey(ownerID: "live", tenantID: "acme").count == 32)
    }

    @Test func blockedCheckpointIsAnErrorNotASilentSuccess() throws {
        let temp = try TemporaryDirectory()
        let (directory, store) = try temp.makeStore(busyTimeout: 0.05)
        try store.createTenant("acme")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "erase-me", kind: .voice, expiresOn: dayOne)
        // Another connection (as another process would) holds a read snapshot that still needs the WAL.
        let reader = try DatabasePool(path: directory.keyStorePath)
        let (seen, code) = try reader.read { db throws -> (Int?, KeyStoreError.Code?) in
            let seen = try Int.fetchOne(db, sql: "SELECT count(*) FROM data_key")
            return (seen, errorCode { try store.destroyDataKey(ownerID: "erase-me", tenantID: "acme") })
        }
        #expect(seen == 1)
        #expect(code == .checkpointBlocked)
        // The key is gone either way; once the reader is done the checkpoint goes through.
        #expect(errorCode { try store.dataKey(ownerID: "erase-me", tenantID: "acme") } == .dataKeyShredded)
        try store.checkpointTruncate()
        #expect((fileBytes(directory.keyStorePath + "-wal") ?? []).isEmpty)
    }
}
