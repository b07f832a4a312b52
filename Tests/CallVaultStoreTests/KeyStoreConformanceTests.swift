import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The key store's behaviour over ``KeyRecordStore``, the same on `keys.sqlite` and on PostgreSQL: the
/// hierarchy, shredding, erasure, holds, provider-wrapped day keys (regeneration, rotation, migration),
/// and two stores ("nodes") on the same rows. Key-store calls block their thread, so each body runs off
/// the cooperative pool.
extension KeyStoreConformance {
    @Suite("Key store conformance (SQLite and PostgreSQL)", .timeLimit(.minutes(15)))
    struct KeyStoreConformanceTests {
        static let day = try! CalendarDay("2031-04-01")
        static let nextDay = try! CalendarDay("2031-04-02")

        @Test(arguments: Backend.all)
        func tenantAndDataKeysRoundTripAndRefuseWhatTheyShould(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let store = try await fixture.node()
                let other = try await fixture.node()
                defer { store.close(); other.close() }
                try await offCooperativePool {
                    #expect(try !store.hasTenant("acme"))
                    try store.createTenant("acme")
                    #expect(keyStoreErrorCode { try store.createTenant("acme") } == .tenantExists)
                    try store.ensureTenant("acme")
                    try store.ensureTenant("beta")
                    #expect(try other.hasTenant("beta"))

                    let made = try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: Self.day)
                    #expect(try other.dataKey(ownerID: "rec-1", tenantID: "acme").testBytes == made.key.testBytes)
                    let withID = try other.dataKeyWithID(ownerID: "rec-1", tenantID: "acme")
                    #expect(withID.keyID == made.keyID && withID.key.testBytes == made.key.testBytes)
                    #expect(
                        try other.dataKeyStatus(ownerID: "rec-1", tenantID: "acme")
                            == .active(keyID: made.keyID, kind: .voice, expiresOn: Self.day, held: false))
                    #expect(
                        keyStoreErrorCode {
                            try other.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: Self.day)
                        } == .dataKeyExists)
                    // Another tenant's owner is unknown there, not "exists".
                    #expect(keyStoreErrorCode { try store.dataKey(ownerID: "rec-1", tenantID: "beta") } == .unknownDataKey)
                    #expect(try store.dataKeyStatus(ownerID: "rec-1", tenantID: "beta") == .unknown)
                    #expect(
                        keyStoreErrorCode {
                            try store.newDataKey(tenantID: "ghost", ownerID: "rec-9", kind: .voice, expiresOn: Self.day)
                        } == .unknownTenant)
                    // The caller keys derive from the tenant key: the same on every node.
                    #expect(try store.callerKeys(tenantID: "acme").hashKey.testBytes == other.callerKeys(tenantID: "acme").hashKey.testBytes)
                    #expect(try store.callerKeys(tenantID: "acme").hashKey.testBytes != store.callerKeys(tenantID: "beta").hashKey.testBytes)
                    #expect(try store.dayKeyCount(tenantID: "acme") == 1 && store.localDayKeyCount() == 1)
                }
            }
        }

        @Test(arguments: Backend.all)
        func theSweepShredsExpiredDayKeysWithTheirDataKeysAndLeavesTombstones(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let store = try await fixture.node()
                let other = try await fixture.node()
                defer { store.close(); other.close() }
                try await offCooperativePool {
                    try store.createTenant("acme")
                    _ = try store.newDataKey(tenantID: "acme", ownerID: "old-1", kind: .voice, expiresOn: Self.day)
                    _ = try store.newDataKey(tenantID: "acme", ownerID: "old-2", kind: .voice, expiresOn: Self.day)
                    _ = try store.newDataKey(tenantID: "acme", ownerID: "text-1", kind: .transcript, expiresOn: Self.day)
                    let kept = try store.newDataKey(tenantID: "acme", ownerID: "new-1", kind: .voice, expiresOn: Self.nextDay)

                    let planned = try other.dayKeysToDestroy(expiringBefore: Self.nextDay, kind: .voice)
                    #expect(planned.map(\.ownerIDs) == [["old-1", "old-2"]])
                    let sweep = try other.sweepDayKeys(expiringBefore: Self.nextDay, kind: .voice)
                    #expect(sweep.failures.isEmpty && sweep.destroyed == planned)
                    #expect(keyStoreErrorCode { try store.dataKey(ownerID: "old-1", tenantID: "acme") } == .dataKeyShredded)
                    if case .shredded(_, let reason) = try store.dataKeyStatus(ownerID: "old-2", tenantID: "acme") {
                        #expect(reason == .expired)
                    } else {
                        Issue.record("old-2 is not shredded")
                    }
                    #expect(try store.dataKey(ownerID: "new-1", tenantID: "acme").testBytes == kept.key.testBytes)
                    _ = try store.dataKey(ownerID: "text-1", tenantID: "acme")  // the other kind is untouched
                    #expect(
                        keyStoreErrorCode {
                            try store.newDataKey(tenantID: "acme", ownerID: "late", kind: .voice, expiresOn: Self.day)
                        } == .dayKeyDestroyed)
                    #expect(keyStoreErrorCode { try store.newDataKey(tenantID: "acme", ownerID: "old-1", kind: .voice, expiresOn: Self.nextDay) } == .dataKeyExists)
                    #expect(try store.destroyDayKeys(expiringBefore: Self.nextDay).count == 1)  // the transcript day
                    #expect(try store.dayKeysToDestroy(expiringBefore: Self.nextDay).isEmpty)
                }
            }
        }

        @Test(arguments: Backend.all)
        func erasureSparesHeldKeysAndAHoldOutlivesItsDayUntilReleased(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let store = try await fixture.node()
                defer { store.close() }
                try await offCooperativePool {
                    try store.createTenant("acme")
                    for owner in ["a", "b", "c", "d"] {
                        _ = try store.newDataKey(tenantID: "acme", ownerID: owner, kind: .voice, expiresOn: Self.day)
                    }
                    let heldKey = try store.dataKey(ownerID: "b", tenantID: "acme").testBytes
                    try store.placeHold(ownerID: "b", tenantID: "acme")
                    try store.placeHold(ownerID: "b", tenantID: "acme")  // idempotent
                    try store.placeHold(ownerID: "d", tenantID: "acme")
                    #expect(keyStoreErrorCode { try store.destroyDataKey(ownerID: "b", tenantID: "acme") } == .onHold)
                    let erased = try store.destroyDataKeys(
                        owners: [("a", "acme"), ("b", "acme"), ("a", "acme"), ("zz", "acme")], reason: .erased)
                    #expect(erased.destroyed == 1 && erased.held == ["b"] && erased.localDayKeys == 1)
                    #expect(try store.destroyDataKey(ownerID: "a", tenantID: "acme") == false)  // already gone
                    if case .shredded(_, let reason) = try store.dataKeyStatus(ownerID: "a", tenantID: "acme") {
                        #expect(reason == .erased)
                    } else {
                        Issue.record("a is not shredded")
                    }
                    // The day passes: the held keys survive it, the unheld one goes.
                    _ = try store.destroyDayKeys(expiringBefore: Self.nextDay)
                    #expect(try store.dataKey(ownerID: "b", tenantID: "acme").testBytes == heldKey)
                    #expect(keyStoreErrorCode { try store.dataKey(ownerID: "c", tenantID: "acme") } == .dataKeyShredded)
                    #expect(keyStoreErrorCode { try store.releaseHold(ownerID: "c", tenantID: "acme", expiresOn: Self.nextDay) } == .dataKeyShredded)
                    // Released onto a later day: re-wrapped there; onto its passed day: shredded.
                    let later = try CalendarDay("2031-05-01")
                    let released = try store.releaseHold(ownerID: "b", tenantID: "acme", expiresOn: later, today: Self.day)
                    guard case .rewrapped(_, let expiresOn) = released else {
                        Issue.record("b was not re-wrapped: \(released)")
                        return
                    }
                    #expect(expiresOn == later)
                    #expect(try store.dataKey(ownerID: "b", tenantID: "acme").testBytes == heldKey)
                    #expect(keyStoreErrorCode { try store.releaseHold(ownerID: "b", tenantID: "acme", expiresOn: later) } == .notHeld)
                    #expect(try store.releaseHold(ownerID: "d", tenantID: "acme", expiresOn: Self.day, today: Self.nextDay) == .shredded)
                    #expect(keyStoreErrorCode { try store.dataKey(ownerID: "d", tenantID: "acme") } == .dataKeyShredded)
                }
            }
        }

        @Test(arguments: Backend.all)
        func providerWrappedDayKeysAreSharedRegeneratedOnErasureAndShreddedInTheProvider(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let provider = MemoryKeyProvider()
                let first = try await fixture.node(provider)
                let second = try await fixture.node(provider)
                defer { first.close(); second.close() }
                try await offCooperativePool {
                    try first.createTenant("acme")
                    var keys: [String: [UInt8]] = [:]
                    for owner in ["r1", "r2", "r3"] {
                        keys[owner] = try first.newDataKey(tenantID: "acme", ownerID: owner, kind: .voice, expiresOn: Self.day).key.testBytes
                    }
                    let name = KeyStore.providerKeyName(tenantID: "acme", kind: .voice, day: Self.day)
                    #expect(provider.names == [name])
                    #expect(try first.localDayKeyCount() == 0)
                    // The second node unwraps through the provider what the first sealed.
                    #expect(try second.dataKey(ownerID: "r2", tenantID: "acme").testBytes == keys["r2"])
                    #expect(try second.prepareDayKey(tenantID: "acme", kind: .voice, expiresOn: Self.day) != .local)
                    #expect(try second.dayKeyReady(tenantID: "acme", kind: .voice, expiresOn: Self.day))
                    let fromMemory = try second.newDataKey(
                        tenantID: "acme", ownerID: "r4", kind: .voice, expiresOn: Self.day, providerRoundTrip: .forbidden)
                    keys["r4"] = fromMemory.key.testBytes

                    // Erasing r1 via the second node replaces the day key; the old provider key is destroyed.
                    let erased = try second.destroyDataKeys(owners: [("r1", "acme")], reason: .erased)
                    #expect(erased.destroyed == 1 && erased.dayKeysRegenerated == 1 && erased.dataKeysRewrapped == 3)
                    #expect(erased.providerKeysPending.isEmpty && !provider.names.contains(name))
                    #expect(provider.names.count == 1)
                    // The first node's cached day key is not the day's any more: a data key made from memory
                    // is refused; one made with a round trip fetches the new day key, and the rest read.
                    #expect(
                        keyStoreErrorCode {
                            try first.newDataKey(
                                tenantID: "acme", ownerID: "r5", kind: .voice, expiresOn: Self.day,
                                providerRoundTrip: .forbidden)
                        } == .dayKeyNotReady)
                    _ = try first.newDataKey(tenantID: "acme", ownerID: "r5", kind: .voice, expiresOn: Self.day)
                    for owner in ["r2", "r3", "r4"] {
                        #expect(try first.dataKey(ownerID: owner, tenantID: "acme").testBytes == keys[owner])
                    }

                    // The sweep on one node destroys the provider key: unreadable on both.
                    let sweep = try first.sweepDayKeys(expiringBefore: Self.nextDay)
                    #expect(sweep.failures.isEmpty && sweep.destroyed.first?.ownerIDs == ["r2", "r3", "r4", "r5"])
                    #expect(provider.names.isEmpty)
                    for node in [first, second] {
                        #expect(keyStoreErrorCode { try node.dataKey(ownerID: "r3", tenantID: "acme") } == .dataKeyShredded)
                    }
                }
            }
        }

        @Test(arguments: Backend.all)
        func holdKeysRotationAndMigrationIntoTheProvider(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let provider = MemoryKeyProvider()
                let local = try await fixture.node()
                let inProvider = try await fixture.node(provider)
                defer { local.close(); inProvider.close() }
                try await offCooperativePool {
                    try local.createTenant("acme")
                    let before = try local.newDataKey(tenantID: "acme", ownerID: "m1", kind: .voice, expiresOn: Self.day)
                    try local.placeHold(ownerID: "m1", tenantID: "acme")
                    _ = try local.newDataKey(tenantID: "acme", ownerID: "m2", kind: .transcript, expiresOn: Self.day)
                    #expect(try local.localDayKeyCount() == 2)

                    let migrated = try inProvider.migrateLocalDayKeys(to: provider)
                    #expect(migrated.migrated == 2 && migrated.alreadyInProvider == 0 && migrated.holdKeysMigrated == 1)
                    #expect(try inProvider.migrateLocalDayKeys(to: provider).migrated == 0)
                    #expect(try inProvider.localDayKeyCount() == 0)
                    #expect(try inProvider.dataKey(ownerID: "m1", tenantID: "acme").testBytes == before.key.testBytes)
                    #expect(keyStoreErrorCode { try local.dataKey(ownerID: "m2", tenantID: "acme") } == .providerFailed)
                    let m2 = try inProvider.dataKey(ownerID: "m2", tenantID: "acme").testBytes

                    let namesBefore = provider.names
                    let rotated = try inProvider.rotateDayKeys(tenantID: "acme", before: Date().addingTimeInterval(5))
                    #expect(rotated.dayKeysRotated == 2 && rotated.holdKeyRotated && rotated.providerKeysPending.isEmpty)
                    #expect(provider.names.isDisjoint(with: namesBefore) && provider.names.count == 3)
                    #expect(try inProvider.dataKey(ownerID: "m1", tenantID: "acme").testBytes == before.key.testBytes)
                    #expect(try inProvider.dataKey(ownerID: "m2", tenantID: "acme").testBytes == m2)
                    #expect(try inProvider.finishRetiredProviderKeys().pending.isEmpty)

                    // A release replaces the hold key (and retires the old provider key, destroyed at once).
                    let names = provider.names
                    _ = try inProvider.releaseHold(ownerID: "m1", tenantID: "acme", expiresOn: Self.nextDay, today: Self.day)
                    #expect(provider.names.count == 4 && provider.names.subtracting(names).count == 2)
                    #expect(try inProvider.dataKey(ownerID: "m1", tenantID: "acme").testBytes == before.key.testBytes)
                }
            }
        }

        @Test(arguments: Backend.all)
        func twoNodesMakingDataKeysForANewDayAtOnceShareOneDayKey(_ backend: Backend) async throws {
            try await KeyStoreFixture.with(backend) { fixture in
                let provider = MemoryKeyProvider()
                let nodes = [try await fixture.node(provider), try await fixture.node(provider)]
                defer { nodes.forEach { $0.close() } }
                try await offCooperativePool { try nodes[0].createTenant("acme") }
                let made = try await withThrowingTaskGroup(of: [(String, [UInt8])].self) { group in
                    for worker in 0..<4 {
                        let node = nodes[worker % 2]
                        group.addTask {
                            try await offCooperativePool {
                                try (0..<10).map { index in
                                    let owner = "w\(worker)-\(index)"
                                    let key = try node.newDataKey(
                                        tenantID: "acme", ownerID: owner, kind: .voice, expiresOn: Self.day)
                                    return (owner, key.key.testBytes)
                                }
                            }
                        }
                    }
                    var all: [(String, [UInt8])] = []
                    for try await part in group { all += part }
                    return all
                }
                #expect(made.count == 40)
                try await offCooperativePool { () throws -> Void in
                    #expect(try nodes[1].dayKeyCount(tenantID: "acme") == 1)
                    #expect(provider.names.count == 1)
                    for (owner, key) in made {
                        #expect(try nodes[(owner.hashValue & 1)].dataKey(ownerID: owner, tenantID: "acme").testBytes == key)
                    }
                }
            }
        }
    
        @Test(.enabled(if: Backend.all.contains(.postgres), "PostgreSQL is missing"))
        func aCopyIntoPostgreSQLTakesOnlyProviderWrappedKeysAndResumes() async throws {
            let provider = MemoryKeyProvider()
            let sqlite = try await KeyStoreFixture.make(.sqlite)
            let postgres = try await KeyStoreFixture.make(.postgres)
            defer { Task { await sqlite.tearDown(); await postgres.tearDown() } }
            // The target must be opened with the source's root key.
            try FileManager.default.removeItem(atPath: postgres.data.rootKeyPath)
            try FileManager.default.copyItem(atPath: sqlite.data.rootKeyPath, toPath: postgres.data.rootKeyPath)
            let local = try await sqlite.node()
            let source = try await sqlite.node(provider)
            let target = try await postgres.node(provider)
            defer { target.close() }
            try await offCooperativePool {
                try local.createTenant("acme")
                _ = try local.newDataKey(tenantID: "acme", ownerID: "old", kind: .voice, expiresOn: Self.day)
                #expect(keyStoreErrorCode { try KeyStoreMigration.copy(from: source, to: target) } == .providerFailed)
                #expect(try target.read { db throws(KeyStoreError) in try db.tenantKey("acme") } == nil, "nothing copied")
                _ = try source.migrateLocalDayKeys(to: provider)
                _ = try source.newDataKey(tenantID: "acme", ownerID: "new", kind: .voice, expiresOn: Self.nextDay)
                let first = try KeyStoreMigration.copy(from: source, to: target, batchSize: 1)
                #expect(first.verified && first.tables.map(\.copied).reduce(0, +) == 5, "\(first)")
                let again = try KeyStoreMigration.copy(from: source, to: target)
                #expect(again.verified && again.tables.allSatisfy { $0.copied == 0 }, "\(again)")
                for owner in ["old", "new"] {
                    #expect(
                        try target.dataKey(ownerID: owner, tenantID: "acme").testBytes
                            == source.dataKey(ownerID: owner, tenantID: "acme").testBytes)
                }
            }
        }
    }
}
