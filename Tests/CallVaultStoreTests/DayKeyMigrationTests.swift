import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultStore

/// `keys migrate`'s core: a local key store's day keys moved under provider keys, resumably.
@Suite(
    "Day keys moved from local into a key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct DayKeyMigrationTests {
    let day1 = try! CalendarDay("2031-05-01")
    let day2 = try! CalendarDay("2031-05-02")

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func localDayKeysMoveUnderProviderKeysAndResumeAfterAFailure(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let refusing = RefusingProvider(under.provider)
        let directory = try TemporaryDirectory("migration")
        let data = DataDirectory(path: directory.path + "/data")
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        let tenant = UUID().uuidString.lowercased()
        var keys: [String: [UInt8]] = [:]
        do {
            let local = try KeyStore(dataDirectory: data, logger: Logger(label: "test"))
            try local.createTenant(tenant)
            for (owner, day, kind) in [("v1", day1, KeyKind.voice), ("v2", day2, .voice), ("t1", day1, .transcript)] {
                keys[owner] = bytes(of: try local.newDataKey(tenantID: tenant, ownerID: owner, kind: kind, expiresOn: day).key)
            }
            #expect(try local.localDayKeyCount() == 3)
            try local.placeHold(ownerID: "t1", tenantID: tenant)
        }
        let store = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: refusing)
        // A run killed after creating a provider key: the next run finds it and uses it.
        try under.provider.createKey(named: KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day1))
        // The provider refuses the second day: the first pass stops there, keeping what it did.
        refusing.refuseWrap(prefix: KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day2))
        var thrown: KeyStoreError?
        do { _ = try store.migrateLocalDayKeys(to: refusing) } catch { thrown = error }
        #expect(thrown?.code == .providerFailed && thrown?.message.contains(tenant) == true)
        let left = try store.localDayKeyCount()
        #expect(left >= 1 && left < 3, "the pass stopped part-way")
        for (owner, key) in keys { #expect(bytes(of: try store.dataKey(ownerID: owner, tenantID: tenant)) == key) }

        refusing.refuseWrap(prefix: nil)
        let resumed = try store.migrateLocalDayKeys(to: refusing)
        #expect(resumed.migrated == left && resumed.alreadyInProvider == 3 - left)
        #expect(resumed.holdKeysMigrated == 1, "the hold key moved into the provider, the held key re-wrapped")
        #expect(try store.localDayKeyCount() == 0)
        // A fresh process (no cache) opens every data key through the provider.
        let fresh = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: under.provider)
        for (owner, key) in keys { #expect(bytes(of: try fresh.dataKey(ownerID: owner, tenantID: tenant)) == key) }
        // Without the provider the moved day keys do not open: they are the provider's now.
        let without = try KeyStore(dataDirectory: data, logger: Logger(label: "test"))
        var missing: KeyStoreError?
        do { _ = try without.dataKey(ownerID: "v1", tenantID: tenant) } catch { missing = error }
        #expect(missing?.code == .providerFailed && missing?.message.contains("keys migrate") == true)
        // The sweep shreds them in the provider.
        try fresh.destroyDayKeys(expiringBefore: day2)
        #expect(try !under.provider.keyExists(named: KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day1)))
        #expect(errorCode { try fresh.dataKey(ownerID: "v1", tenantID: tenant) } == .dataKeyShredded)
        #expect(bytes(of: try fresh.dataKey(ownerID: "v2", tenantID: tenant)) == keys["v2"])
        #expect(try fresh.migrateLocalDayKeys(to: under.provider) == .init(migrated: 0, alreadyInProvider: 1, holdKeysMigrated: 0))
    }
}
