import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultStore

/// Data keys made where no provider round trip may be made (an ingest event loop), and the
/// ``DayKeyPreparer`` that makes their day keys ready ahead, against SoftHSM2 and OpenBao.
@Suite(
    "Day keys ready ahead of the event loops", .serialized, .timeLimit(.minutes(15)),
    .enabled(
        if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct DayKeyReadinessTests {
    let day = try! CalendarDay("2031-04-01")

    func store(_ directory: TemporaryDirectory, _ provider: (any KeyProvider)?, ttl: Duration = .seconds(300)) throws
        -> (DataDirectory, KeyStore)
    {
        let data = DataDirectory(path: directory.path + "/data")
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        let store = try KeyStore(
            path: data.keyStorePath, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: provider, dayKeyCacheTTL: ttl)
        return (data, store)
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func aDataKeyWithoutRoundTripComesFromMemoryOnlyOrFailsTypedWithNothingWritten(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let counting = CountingProvider(under.provider)
        let directory = try TemporaryDirectory("ready-forbidden")
        defer { directory.remove() }
        let (_, keyStore) = try store(directory, counting)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)

        #expect(try !keyStore.dayKeyReady(tenantID: tenant, kind: .voice, expiresOn: day))
        var thrown: KeyStoreError?
        do {
            _ = try keyStore.newDataKey(
                tenantID: tenant, ownerID: "early", kind: .voice, expiresOn: day, providerRoundTrip: .forbidden)
        } catch { thrown = error }
        #expect(thrown?.code == .dayKeyNotReady)
        let message = thrown?.message ?? ""
        #expect(message.contains(tenant) && message.contains("\(kind.rawValue) key provider at \(under.provider.location)"), "\(message)")
        #expect(counting.calls == 0, "no provider call was made")
        #expect(try keyStore.dataKeyStatus(ownerID: "early", tenantID: tenant) == .unknown, "nothing written")

        #expect(try keyStore.prepareDayKey(tenantID: tenant, kind: .voice, expiresOn: day) != .local)
        #expect(counting.calls == 2, "create the provider key, wrap the day key")
        #expect(try keyStore.dayKeyReady(tenantID: tenant, kind: .voice, expiresOn: day))
        counting.reset()
        var made: [(String, [UInt8])] = []
        for i in 0..<50 {
            let key = try keyStore.newDataKey(
                tenantID: tenant, ownerID: "r\(i)", kind: .voice, expiresOn: day, providerRoundTrip: .forbidden)
            made.append(("r\(i)", bytes(of: key.key)))
        }
        #expect(counting.calls == 0, "50 data keys from the day key in memory")
        for (owner, key) in made.prefix(5) {
            #expect(bytes(of: try keyStore.dataKey(ownerID: owner, tenantID: tenant)) == key)
        }
        // Preparing a day key far from the end of its entry costs nothing.
        #expect(try keyStore.prepareDayKey(tenantID: tenant, kind: .voice, expiresOn: day, refreshingWithin: .seconds(1)) != .local)
        #expect(counting.calls == 0)
    }

    @Test func withoutAProviderNothingNeedsPreparing() throws {
        let directory = try TemporaryDirectory("ready-local")
        defer { directory.remove() }
        let (_, keyStore) = try store(directory, nil)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        #expect(try keyStore.dayKeyReady(tenantID: tenant, kind: .voice, expiresOn: day))
        #expect(try keyStore.prepareDayKey(tenantID: tenant, kind: .voice, expiresOn: day) == .local)
        let key = try keyStore.newDataKey(
            tenantID: tenant, ownerID: "local", kind: .voice, expiresOn: day, providerRoundTrip: .forbidden)
        #expect(bytes(of: try keyStore.dataKey(ownerID: "local", tenantID: tenant)) == bytes(of: key.key))
        #expect(keyStore.dayKeyProviderDescription(tenantID: tenant) == nil && !keyStore.hasDayKeyProviders)
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func anEntryNearItsEndIsUnwrappedAgainAndAKeyRevokedInTheProviderStopsAtOnce(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let counting = CountingProvider(under.provider)
        let directory = try TemporaryDirectory("ready-refresh")
        defer { directory.remove() }
        let (_, keyStore) = try store(directory, counting, ttl: .seconds(60))
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        guard case .cached(let first) = try keyStore.prepareDayKey(tenantID: tenant, kind: .voice, expiresOn: day) else {
            Issue.record("not cached")
            return
        }
        counting.reset()
        // Within the margin (here: always): unwrapped again through the provider, the entry renewed.
        guard
            case .cached(let renewed) = try keyStore.prepareDayKey(
                tenantID: tenant, kind: .voice, expiresOn: day, refreshingWithin: .seconds(3600))
        else {
            Issue.record("not cached")
            return
        }
        #expect(counting.calls == 1, "one unwrap")
        #expect(renewed > first)

        // The customer revokes the key (BYOK): the next refresh fails and the day key leaves memory at once.
        #expect(try under.provider.destroyKey(named: KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day)))
        var thrown: KeyStoreError?
        do {
            try keyStore.prepareDayKey(tenantID: tenant, kind: .voice, expiresOn: day, refreshingWithin: .seconds(3600))
        } catch { thrown = error }
        #expect(thrown?.code == .dataKeyShredded, "\(String(describing: thrown))")
        #expect(try !keyStore.dayKeyReady(tenantID: tenant, kind: .voice, expiresOn: day))
        #expect(
            errorCode {
                _ = try keyStore.newDataKey(
                    tenantID: tenant, ownerID: "after", kind: .voice, expiresOn: day, providerRoundTrip: .forbidden)
            } == .dayKeyNotReady)
    }

    @Test func thePreparerFailsOnlyTheTenantWhoseProviderKeyIsGoneAndPreparesTheDayRecordingsGet() throws {
        let under = try ProviderUnderTest.make(.transit)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("ready-preparer")
        defer { directory.remove() }
        let (data, keyStore) = try store(directory, under.provider)
        let catalog = try Catalog(path: data.catalogPath)
        let a = try catalog.addTenant(name: "a", policy: TenantPolicy(voiceDays: 30)).tenant
        let b = try catalog.addTenant(name: "b", policy: TenantPolicy(voiceDays: 7)).tenant
        let preparer = DayKeyPreparer(
            catalog: catalog, keyStore: keyStore, logger: Logger(label: "test"), refreshMargin: .seconds(3600))
        #expect(!preparer.isReady(a) && !preparer.isReady(b))
        #expect(preparer.prepareAll().isEmpty)
        #expect(preparer.isReady(a) && preparer.isReady(b))

        // The day a recording started now expires on (fixed by the catalog) and the next are ready.
        let now = Date()
        for tenant in [a, b] {
            let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA-\(tenant.name)", callerNumber: nil, callerKeys: nil)
            let recording = try catalog.createRecording(
                callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "x.cvr", createdAt: now)
            let expires = CalendarDay(secondsSince1970: Int64(recording.expiresAt.timeIntervalSince1970.rounded(.down)))
            let days = DayKeyPreparer.voiceExpiryDays(voiceDays: tenant.policy.voiceDays, now: now)
            #expect(days == [expires, expires.adding(days: 1)])
            for day in days { #expect(try keyStore.dayKeyReady(tenantID: tenant.id, kind: .voice, expiresOn: day)) }
        }

        // a's provider keys are destroyed (revoked): the next pass fails a, with the reason, and only a.
        for day in DayKeyPreparer.voiceExpiryDays(voiceDays: a.policy.voiceDays) {
            try under.provider.destroyKey(named: KeyStore.providerKeyName(tenantID: a.id, kind: .voice, day: day))
        }
        let failed = preparer.prepareAll()
        #expect(Array(failed.keys) == [a.id])
        #expect(!preparer.isReady(a) && preparer.isReady(b))
        let failure = try #require(preparer.failure(tenantID: a.id))
        #expect(failure.message.contains(a.id) && failure.message.contains("transit key provider"), "\(failure.message)")
        #expect(preparer.failure(tenantID: b.id) == nil)
        #expect(preparer.refusal(a).contains(a.id) && preparer.refusal(a).contains("transit key provider failed"))
        #expect(preparer.refusal(a).utf8.count <= 123, "fits a WebSocket close frame")
    }
}
