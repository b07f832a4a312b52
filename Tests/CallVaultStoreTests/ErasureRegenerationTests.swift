import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CallVaultStore

#if canImport(Glibc)
    import Glibc
#endif

/// A real provider whose `destroyKey` (or `wrap`) can be made to fail for some key names: a provider
/// refusing one step (after an erasure's commit, for one tenant, in the middle of a migration).
final class RefusingProvider: KeyProvider {
    let inner: any KeyProvider
    /// Names starting with this are refused ("" refuses all; nil none).
    private let refusing = Mutex<String?>(nil)

    init(_ inner: any KeyProvider) { self.inner = inner }

    func refuseDestroy(_ value: Bool) { refusing.withLock { $0 = value ? "" : nil } }
    func refuseDestroy(prefix: String) { refusing.withLock { $0 = prefix } }
    /// Wraps under names starting with this are refused (nil: none).
    private let refusingWrap = Mutex<String?>(nil)
    func refuseWrap(prefix: String?) { refusingWrap.withLock { $0 = prefix } }

    var kind: KeyProviderKind { inner.kind }
    var location: String { inner.location }
    func createKey(named name: String) throws(KeyProviderError) { try inner.createKey(named: name) }
    func keyExists(named name: String) throws(KeyProviderError) -> Bool { try inner.keyExists(named: name) }
    func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        if let prefix = refusingWrap.withLock({ $0 }), name.hasPrefix(prefix) {
            throw KeyProviderError(.unavailable, "\(location): refused for the test")
        }
        return try inner.wrap(key, under: name, context: context)
    }
    func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError) -> SecretKey {
        try inner.unwrap(wrapped, under: name, context: context)
    }
    func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        if let prefix = refusing.withLock({ $0 }), name.hasPrefix(prefix) {
            throw KeyProviderError(.unavailable, "\(location): refused for the test")
        }
        return try inner.destroyKey(named: name)
    }
}

/// Erasure regenerates the day key above an erased data key, so no backup can open the erased key.
@Suite(
    "Erasure that is backup-proof at once", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct ErasureRegenerationTests {
    let day1 = try! CalendarDay("2031-04-01")
    let day2 = try! CalendarDay("2031-04-02")

    func store(_ directory: TemporaryDirectory, _ provider: (any KeyProvider)?) throws -> (DataDirectory, KeyStore) {
        let data = DataDirectory(path: directory.path + "/data")
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        let store = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: provider)
        return (data, store)
    }

    /// Copies keys.sqlite (checkpointed) as a backup would.
    func backUp(_ data: DataDirectory, _ keyStore: KeyStore, to path: String) throws {
        try keyStore.checkpointTruncate()
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: data.keyStorePath + suffix) {
            try FileManager.default.copyItem(atPath: data.keyStorePath + suffix, toPath: path + suffix)
            chmod(path + suffix, 0o600)
        }
    }

    func providerKey(_ keyStore: KeyStore, _ tenant: String, _ day: CalendarDay) throws -> String? {
        try keyStore.read { db throws(KeyStoreError) in
            try db.dayKey(tenantID: tenant, day: day.description, kind: "voice")?.providerKey
        }
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func backupTakenBeforeErasureCannotOpenTheErasedKey(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let provider = under.provider
        let directory = try TemporaryDirectory("erasure-backup")
        let (data, keyStore) = try store(directory, provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)

        var keys: [String: [UInt8]] = [:]
        for owner in ["r1", "r2", "r3", "r4", "held"] {
            keys[owner] = bytes(of: try keyStore.newDataKey(tenantID: tenant, ownerID: owner, kind: .voice, expiresOn: day1).key)
        }
        keys["other-day"] = bytes(of: try keyStore.newDataKey(tenantID: tenant, ownerID: "other-day", kind: .voice, expiresOn: day2).key)
        try keyStore.placeHold(ownerID: "held", tenantID: tenant)
        let oldName = try #require(try providerKey(keyStore, tenant, day1))
        let otherDayName = try #require(try providerKey(keyStore, tenant, day2))
        let backup = directory.appending("backup-keys.sqlite")
        try backUp(data, keyStore, to: backup)

        let erased = try keyStore.destroyDataKeys(owners: [("r2", tenant)], reason: .erased)
        #expect(erased.destroyed == 1)
        #expect(erased.dayKeysRegenerated == 1)
        #expect(erased.dataKeysRewrapped == 3, "r1, r3, r4; the held key is wrapped by the hold key")
        #expect(erased.providerKeysPending.isEmpty && erased.backupProof)
        #expect(try !provider.keyExists(named: oldName), "the old day key's provider key is destroyed")
        let newName = try #require(try providerKey(keyStore, tenant, day1))
        #expect(newName != oldName && newName.hasPrefix(oldName + "."))
        #expect(try provider.keyExists(named: newName))
        #expect(try provider.keyExists(named: otherDayName), "other days are untouched")

        // Live: the erased key is gone, every other key of the day opens to the same bytes.
        #expect(errorCode { try keyStore.dataKey(ownerID: "r2", tenantID: tenant) } == .dataKeyShredded)
        for owner in ["r1", "r3", "r4", "held", "other-day"] {
            #expect(bytes(of: try keyStore.dataKey(ownerID: owner, tenantID: tenant)) == keys[owner], "\(owner)")
        }
        // A fresh process (no cache) opens them through the new provider key too.
        let fresh = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: provider)
        #expect(bytes(of: try fresh.dataKey(ownerID: "r1", tenantID: tenant)) == keys["r1"])

        // The backup taken before the erasure: the erased key's day key is dead in the provider.
        let restored = try KeyStore(
            path: backup, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: provider)
        var thrown: KeyStoreError?
        do { _ = try restored.dataKey(ownerID: "r2", tenantID: tenant) } catch { thrown = error }
        #expect(thrown?.code == .dataKeyShredded)
        #expect(thrown?.message.contains(oldName) == true)
        #expect(bytes(of: try restored.dataKey(ownerID: "other-day", tenantID: tenant)) == keys["other-day"])

        // New data keys of the day go under the fresh generation; the sweep destroys it at expiry.
        _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "r5", kind: .voice, expiresOn: day1)
        #expect(try providerKey(keyStore, tenant, day1) == newName)
        try keyStore.destroyDayKeys(expiringBefore: day2)
        #expect(try !provider.keyExists(named: newName))
        #expect(errorCode { try keyStore.dataKey(ownerID: "r1", tenantID: tenant) } == .dataKeyShredded)
    }

    @Test func providerDownBeforeTheCommitErasesNothing() throws {
        let under = try ProviderUnderTest.make(.transit)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("erasure-down")
        let (_, keyStore) = try store(directory, under.provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        let kept = try keyStore.newDataKey(tenantID: tenant, ownerID: "r1", kind: .voice, expiresOn: day1)
        _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "r2", kind: .voice, expiresOn: day1)
        try #require(under.server).kill()

        var thrown: KeyStoreError?
        do { _ = try keyStore.destroyDataKeys(owners: [("r2", tenant)], reason: .erased) } catch { thrown = error }
        #expect(thrown?.code == .providerFailed)
        #expect(thrown?.message.contains("nothing was erased") == true && thrown?.message.contains(tenant) == true)
        if case .active = try keyStore.dataKeyStatus(ownerID: "r2", tenantID: tenant) {} else {
            Issue.record("r2 was erased although its day key could not be regenerated")
        }
        #expect(bytes(of: try keyStore.dataKey(ownerID: "r1", tenantID: tenant)) == bytes(of: kept.key))
    }

    @Test func providerFailingToDestroyLeavesThePendingNameForTheSweep() throws {
        let under = try ProviderUnderTest.make(.pkcs11)
        defer { under.shutdown() }
        let refusing = RefusingProvider(under.provider)
        let directory = try TemporaryDirectory("erasure-pending")
        let (_, keyStore) = try store(directory, refusing)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        let kept = try keyStore.newDataKey(tenantID: tenant, ownerID: "r1", kind: .voice, expiresOn: day1)
        _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "r2", kind: .voice, expiresOn: day1)
        let oldName = try #require(try providerKey(keyStore, tenant, day1))

        refusing.refuseDestroy(true)
        let erased = try keyStore.destroyDataKeys(owners: [("r2", tenant)], reason: .erased)
        #expect(erased.destroyed == 1 && erased.dayKeysRegenerated == 1)
        #expect(erased.providerKeysPending == [oldName] && !erased.backupProof)
        #expect(try under.provider.keyExists(named: oldName), "still there: the provider refused")
        #expect(errorCode { try keyStore.dataKey(ownerID: "r2", tenantID: tenant) } == .dataKeyShredded)
        #expect(bytes(of: try keyStore.dataKey(ownerID: "r1", tenantID: tenant)) == bytes(of: kept.key))
        #expect(try keyStore.finishRetiredProviderKeys().pending == [oldName], "still refused")

        refusing.refuseDestroy(false)
        let finished = try keyStore.finishRetiredProviderKeys()
        #expect(finished.destroyed == 1 && finished.pending.isEmpty)
        #expect(try !under.provider.keyExists(named: oldName))
        #expect(try keyStore.finishRetiredProviderKeys().destroyed == 0, "nothing left")
    }

    @Test func oneTenantsDayKeyTheProviderCannotDestroyDoesNotStopTheOthers() throws {
        let under = try ProviderUnderTest.make(.pkcs11)
        defer { under.shutdown() }
        let refusing = RefusingProvider(under.provider)
        let directory = try TemporaryDirectory("sweep-isolation")
        let (_, keyStore) = try store(directory, refusing)
        let (revoked, healthy) = (UUID().uuidString.lowercased(), UUID().uuidString.lowercased())
        for tenant in [revoked, healthy] {
            try keyStore.createTenant(tenant)
            _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "r-\(tenant)", kind: .voice, expiresOn: day1)
        }
        refusing.refuseDestroy(prefix: "cv.\(revoked).")
        let sweep = try keyStore.sweepDayKeys(expiringBefore: day2)
        #expect(sweep.destroyed.map(\.tenantID) == [healthy])
        #expect(sweep.failures.count == 1 && sweep.failures[0].contains(revoked) && sweep.failures[0].contains("pkcs11"))
        #expect(errorCode { try keyStore.dataKey(ownerID: "r-\(healthy)", tenantID: healthy) } == .dataKeyShredded)
        if case .active = try keyStore.dataKeyStatus(ownerID: "r-\(revoked)", tenantID: revoked) {} else {
            Issue.record("a data key was marked shredded although its provider key could not be destroyed")
        }
        #expect(errorCode { try keyStore.destroyDayKeys(expiringBefore: day2) } == .providerFailed)

        refusing.refuseDestroy(false)
        let next = try keyStore.sweepDayKeys(expiringBefore: day2)
        #expect(next.destroyed.map(\.tenantID) == [revoked] && next.failures.isEmpty)
        #expect(errorCode { try keyStore.dataKey(ownerID: "r-\(revoked)", tenantID: revoked) } == .dataKeyShredded)
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func rotationReplacesEveryDayKeyOfOneTenantAndKillsOldCopies(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("rotation")
        let (data, keyStore) = try store(directory, under.provider)
        let (rotated, other) = (UUID().uuidString.lowercased(), UUID().uuidString.lowercased())
        var keys: [String: [UInt8]] = [:]
        for tenant in [rotated, other] {
            try keyStore.createTenant(tenant)
            for (owner, day) in [("a", day1), ("b", day1), ("c", day2)] {
                keys[tenant + owner] = bytes(of: try keyStore.newDataKey(tenantID: tenant, ownerID: tenant + owner, kind: .voice, expiresOn: day).key)
            }
        }
        let oldNames = [try providerKey(keyStore, rotated, day1), try providerKey(keyStore, rotated, day2)].compactMap { $0 }
        let otherName = try #require(try providerKey(keyStore, other, day1))
        let backup = directory.appending("backup-keys.sqlite")
        try backUp(data, keyStore, to: backup)

        let result = try keyStore.rotateDayKeys(tenantID: rotated)
        #expect(result.dayKeysRotated == 2 && result.dataKeysRewrapped == 3 && result.providerKeysPending.isEmpty)
        for name in oldNames { #expect(try !under.provider.keyExists(named: name), "\(name) destroyed") }
        #expect(try under.provider.keyExists(named: otherName), "the other tenant is untouched")
        let fresh = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: under.provider)
        for (owner, key) in keys { #expect(bytes(of: try fresh.dataKey(ownerID: owner, tenantID: owner.hasPrefix(rotated) ? rotated : other)) == key) }
        // The copy taken before the rotation opens none of the rotated tenant's keys, and still the other's.
        let restored = try KeyStore(
            path: backup, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: under.provider)
        #expect(errorCode { try restored.dataKey(ownerID: rotated + "a", tenantID: rotated) } == .dataKeyShredded)
        #expect(bytes(of: try restored.dataKey(ownerID: other + "a", tenantID: other)) == keys[other + "a"])
        #expect(errorCode { try KeyStore(dataDirectory: data, logger: Logger(label: "test")).rotateDayKeys(tenantID: rotated) } == .providerFailed)
        #expect(errorCode { try keyStore.rotateDayKeys(tenantID: "nobody") } == .unknownTenant)
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func releasedHoldLeavesNoOpenableCopyInABackup(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("hold-provider")
        let (data, keyStore) = try store(directory, under.provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        var keys: [String: [UInt8]] = [:]
        for owner in ["released", "kept"] {
            keys[owner] = bytes(of: try keyStore.newDataKey(tenantID: tenant, ownerID: owner, kind: .voice, expiresOn: day1).key)
            try keyStore.placeHold(ownerID: owner, tenantID: tenant)
        }
        func holdName(_ store: KeyStore) throws -> String? {
            try store.read { db throws(KeyStoreError) in try db.holdKey(tenant)?.providerKey }
        }
        let oldHold = try #require(try holdName(keyStore))
        #expect(oldHold.hasPrefix("cv.\(tenant).hold."))
        #expect(try under.provider.keyExists(named: oldHold))
        // The day passes; held keys survive it.
        try keyStore.destroyDayKeys(expiringBefore: day2)
        #expect(bytes(of: try keyStore.dataKey(ownerID: "released", tenantID: tenant)) == keys["released"])
        let backup = directory.appending("backup-keys.sqlite")
        try backUp(data, keyStore, to: backup)

        #expect(try keyStore.releaseHold(ownerID: "released", tenantID: tenant, expiresOn: day1, today: day2) == .shredded)
        let newHold = try #require(try holdName(keyStore))
        #expect(newHold != oldHold)
        #expect(try !under.provider.keyExists(named: oldHold), "the old hold key is destroyed")
        #expect(bytes(of: try keyStore.dataKey(ownerID: "kept", tenantID: tenant)) == keys["kept"], "re-wrapped")
        let fresh = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: under.provider)
        #expect(bytes(of: try fresh.dataKey(ownerID: "kept", tenantID: tenant)) == keys["kept"])

        // The backup's hold-wrapped copy of the released key is dead (and, the price, so is its copy of the kept one).
        let restored = try KeyStore(
            path: backup, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: under.provider)
        #expect(errorCode { try restored.dataKey(ownerID: "released", tenantID: tenant) } == .dataKeyShredded)
        #expect(errorCode { try restored.dataKey(ownerID: "kept", tenantID: tenant) } == .dataKeyShredded)

        // Rotation replaces the hold key as well.
        let rotated = try keyStore.rotateDayKeys(tenantID: tenant)
        #expect(rotated.holdKeyRotated)
        #expect(try !under.provider.keyExists(named: newHold))
        #expect(bytes(of: try keyStore.dataKey(ownerID: "kept", tenantID: tenant)) == keys["kept"])
    }

    @Test func localErasureSaysItIsNotBackupProof() throws {
        let directory = try TemporaryDirectory("erasure-local")
        let (_, keyStore) = try store(directory, nil)
        try keyStore.createTenant("acme")
        _ = try keyStore.newDataKey(tenantID: "acme", ownerID: "r1", kind: .voice, expiresOn: day1)
        _ = try keyStore.newDataKey(tenantID: "acme", ownerID: "r2", kind: .voice, expiresOn: day1)
        let erased = try keyStore.destroyDataKeys(owners: [("r1", "acme"), ("r2", "acme")], reason: .erased)
        #expect(erased.destroyed == 2 && erased.localDayKeys == 1 && !erased.backupProof)
        #expect(erased.dayKeysRegenerated == 0)
        let expired = try keyStore.destroyDataKeys(owners: [("r1", "acme")], reason: .expired)
        #expect(expired.destroyed == 0 && expired.backupProof, "nothing left to destroy")
    }

    /// The cost of one erasure on a busy day: `CALLVAULT_ERASURE_DAY_SIZE` data keys on one day (1,000 in
    /// the suite; the README's figure is for 10,000), one of them erased, the rest re-wrapped.
    @Test func erasureOnABusyDayRewrapsTheRestOfTheDay() throws {
        let count = ProcessInfo.processInfo.environment["CALLVAULT_ERASURE_DAY_SIZE"].flatMap(Int.init) ?? 1_000
        let under = try ProviderUnderTest.make(.pkcs11)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("erasure-busy")
        let (_, keyStore) = try store(directory, under.provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        let clock = ContinuousClock()
        var sample: [(String, [UInt8])] = []
        let creating = try clock.measure {
            for i in 0..<count {
                let made = try keyStore.newDataKey(tenantID: tenant, ownerID: "r\(i)", kind: .voice, expiresOn: day1)
                if i % 97 == 0 { sample.append(("r\(i)", bytes(of: made.key))) }
            }
        }
        var erased = DataKeyDestruction()
        let erasing = try clock.measure {
            erased = try keyStore.destroyDataKeys(owners: [("r1", tenant)], reason: .erased)
        }
        #expect(erased.dataKeysRewrapped == count - 1 && erased.backupProof)
        for (owner, key) in sample where owner != "r1" {
            #expect(bytes(of: try keyStore.dataKey(ownerID: owner, tenantID: tenant)) == key, "\(owner)")
        }
        print(
            "measured: erasure on a day of \(count) data keys (SoftHSM2): \(erasing) "
                + "(re-wrapped \(erased.dataKeysRewrapped)); creating them took \(creating)")
    }
}
