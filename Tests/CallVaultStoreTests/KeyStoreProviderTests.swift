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

/// A provider that counts the calls it passes on, to show the day-key cache keeps them off the hot path.
final class CountingProvider: KeyProvider {
    let inner: any KeyProvider
    private let counter = Mutex(0)

    init(_ inner: any KeyProvider) { self.inner = inner }

    var calls: Int { counter.withLock { $0 } }
    func reset() { counter.withLock { $0 = 0 } }
    private func count() { counter.withLock { $0 += 1 } }

    var kind: KeyProviderKind { inner.kind }
    var location: String { inner.location }
    func createKey(named name: String) throws(KeyProviderError) {
        count()
        try inner.createKey(named: name)
    }
    func keyExists(named name: String) throws(KeyProviderError) -> Bool {
        count()
        return try inner.keyExists(named: name)
    }
    func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        count()
        return try inner.wrap(key, under: name, context: context)
    }
    func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError) -> SecretKey {
        count()
        return try inner.unwrap(wrapped, under: name, context: context)
    }
    func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        count()
        return try inner.destroyKey(named: name)
    }
}

/// A real provider for a test: a SoftHSM2 token, or an OpenBao server started for the test.
struct ProviderUnderTest {
    let provider: any KeyProvider
    /// The OpenBao server, kept alive (and killable) for the test.
    let server: OpenBaoServer?

    static func make(_ kind: KeyProviderKind) throws -> ProviderUnderTest {
        switch kind {
        case .pkcs11:
            if let reason = SoftHSMToken.unavailableReason { Issue.record(Comment(rawValue: reason)) }
            _ = try SoftHSMToken.prepare()
            let provider = try PKCS11KeyProvider(
                .init(modulePath: SoftHSMToken.modulePath, tokenLabel: SoftHSMToken.label, pin: SoftHSMToken.pin))
            return ProviderUnderTest(provider: provider, server: nil)
        case .transit:
            let server = try OpenBaoServer()
            let provider = try TransitKeyProvider(
                .init(url: server.url, token: TransitToken(server.token), requestTimeout: .seconds(5)))
            return ProviderUnderTest(provider: provider, server: server)
        case .local:
            throw KeyStoreError(.invalidIdentifier, "no key provider for local")
        }
    }

    func shutdown() {
        (provider as? TransitKeyProvider)?.shutdown()
        if let server { _ = try? server.kill() }
    }
}

/// The key store with day keys wrapped by a key provider (SoftHSM2 and OpenBao, real servers).
@Suite(
    "Key store with day keys in a key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct KeyStoreProviderTests {
    let day1 = try! CalendarDay("2031-03-01")
    let day2 = try! CalendarDay("2031-03-02")
    let day3 = try! CalendarDay("2031-03-03")

    func store(_ directory: TemporaryDirectory, _ provider: any KeyProvider) throws -> (DataDirectory, KeyStore) {
        let data = DataDirectory(path: directory.path + "/data")
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        let store = try KeyStore(dataDirectory: data, logger: Logger(label: "test"), dayKeyProvider: provider)
        return (data, store)
    }

    @Test func providerKeyNamesFitEveryProvider() throws {
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
        #expect(KeyStore.providerKeyName(tenantID: uuid, kind: .transcript, day: day1) == "cv.\(uuid).transcript.2031-03-01")
        let odd = String(repeating: "a.b:c_", count: 20)
        let hashed = KeyStore.providerKeyName(tenantID: odd, kind: .transcript, day: day1)
        #expect(hashed.hasPrefix("cv._") && hashed.utf8.count <= 64)
        #expect(hashed == KeyStore.providerKeyName(tenantID: odd, kind: .transcript, day: day1), "deterministic")
        #expect(hashed != KeyStore.providerKeyName(tenantID: odd + "x", kind: .transcript, day: day1))
        for name in [hashed, KeyStore.providerKeyName(tenantID: uuid, kind: .voice, day: day1)] {
            #expect(name.utf8.allSatisfy { $0 == 0x2E || $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        }
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func backupTakenBeforeTheSweepCannotUnwrapTheShreddedDay(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let provider = under.provider
        let directory = try TemporaryDirectory("provider-backup")
        let (data, keyStore) = try store(directory, provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)

        let early = try keyStore.newDataKey(tenantID: tenant, ownerID: "r-early", kind: .voice, expiresOn: day1)
        let late = try keyStore.newDataKey(tenantID: tenant, ownerID: "r-late", kind: .voice, expiresOn: day2)
        #expect(bytes(of: try keyStore.dataKey(ownerID: "r-early", tenantID: tenant)) == bytes(of: early.key))
        let earlyName = KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day1)
        let lateName = KeyStore.providerKeyName(tenantID: tenant, kind: .voice, day: day2)
        #expect(try provider.keyExists(named: earlyName))
        #expect(try provider.keyExists(named: lateName))

        // The backup: keys.sqlite after a checkpoint (and its WAL, if any), with the same root key.
        try keyStore.checkpointTruncate()
        let backup = directory.appending("backup-keys.sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: data.keyStorePath + suffix) {
            try FileManager.default.copyItem(atPath: data.keyStorePath + suffix, toPath: backup + suffix)
            chmod(backup + suffix, 0o600)
        }

        let destroyed = try keyStore.destroyDayKeys(expiringBefore: day2)
        #expect(destroyed.map(\.ownerIDs) == [["r-early"]])
        #expect(try !provider.keyExists(named: earlyName), "the provider key is gone")
        #expect(errorCode { try keyStore.dataKey(ownerID: "r-early", tenantID: tenant) } == .dataKeyShredded)
        #expect(try keyStore.destroyDayKeys(expiringBefore: day2).isEmpty, "a second sweep finds nothing")

        let restored = try KeyStore(
            path: backup, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: provider)
        var thrown: KeyStoreError?
        do { _ = try restored.dataKey(ownerID: "r-early", tenantID: tenant) } catch { thrown = error }
        #expect(thrown?.code == .dataKeyShredded)
        #expect(thrown?.message.contains(earlyName) == true && thrown?.message.contains(provider.kind.rawValue) == true)
        #expect(bytes(of: try restored.dataKey(ownerID: "r-late", tenantID: tenant)) == bytes(of: late.key))
        #expect(bytes(of: try keyStore.dataKey(ownerID: "r-late", tenantID: tenant)) == bytes(of: late.key))

        // The later day is shredded in the provider too: a copy opened afterwards cannot unwrap it either.
        // (`restored` itself holds the day key in its cache for up to the TTL: the cache's bound.)
        try keyStore.destroyDayKeys(expiringBefore: day3)
        #expect(try !provider.keyExists(named: lateName))
        let reopened = try KeyStore(
            path: backup, rootKey: FileRootKey(path: data.rootKeyPath), logger: Logger(label: "test"),
            dayKeyProvider: provider)
        #expect(errorCode { try reopened.dataKey(ownerID: "r-late", tenantID: tenant) } == .dataKeyShredded)
    }

    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func cachedDayKeyMakesNoProviderCallPerDataKey(kind: KeyProviderKind) throws {
        let under = try ProviderUnderTest.make(kind)
        defer { under.shutdown() }
        let counting = CountingProvider(under.provider)
        let directory = try TemporaryDirectory("provider-cache")
        let (_, keyStore) = try store(directory, counting)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)

        _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "first", kind: .transcript, expiresOn: day1)
        #expect(counting.calls == 2, "create the provider key, wrap the day key")
        counting.reset()
        var keys: [(String, [UInt8])] = []
        for i in 0..<100 {
            let made = try keyStore.newDataKey(tenantID: tenant, ownerID: "o\(i)", kind: .transcript, expiresOn: day1)
            keys.append(("o\(i)", bytes(of: made.key)))
        }
        for (owner, key) in keys.prefix(10) {
            #expect(bytes(of: try keyStore.dataKey(ownerID: owner, tenantID: tenant)) == key)
        }
        #expect(counting.calls == 0, "100 data keys of a cached day: no provider call")

        try keyStore.destroyDayKeys(expiringBefore: day2)
        #expect(keyStore.dayKeyCache.count == 0, "destroyed day keys leave the cache")
    }

    @Test func providerDownFailsClosedAndWritesNothing() throws {
        let under = try ProviderUnderTest.make(.transit)
        defer { under.shutdown() }
        let directory = try TemporaryDirectory("provider-down")
        let (_, keyStore) = try store(directory, under.provider)
        let tenant = UUID().uuidString.lowercased()
        try keyStore.createTenant(tenant)
        let first = try keyStore.newDataKey(tenantID: tenant, ownerID: "before", kind: .voice, expiresOn: day1)

        let server = try #require(under.server)
        let token = server.token
        try server.kill()
        var thrown: KeyStoreError?
        do {
            _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "after", kind: .voice, expiresOn: day3)
        } catch {
            thrown = error
        }
        #expect(thrown?.code == .providerFailed)
        #expect(thrown?.message.contains("transit") == true && thrown?.message.contains(tenant) == true)
        #expect(thrown?.message.contains(token) == false, "no token in the message")
        #expect(try keyStore.dataKeyStatus(ownerID: "after", tenantID: tenant) == .unknown)
        #expect(try keyStore.dayKeysToDestroy(expiringBefore: try CalendarDay("2040-01-01")).map(\.day) == [day1])

        // The day already cached keeps working; the sweep fails closed and marks nothing shredded.
        _ = try keyStore.newDataKey(tenantID: tenant, ownerID: "cached", kind: .voice, expiresOn: day1)
        #expect(errorCode { try keyStore.destroyDayKeys(expiringBefore: day2) } == .providerFailed)
        #expect(bytes(of: try keyStore.dataKey(ownerID: "before", tenantID: tenant)) == bytes(of: first.key))
        if case .active = try keyStore.dataKeyStatus(ownerID: "before", tenantID: tenant) {} else {
            Issue.record("a data key was marked shredded although its provider key could not be destroyed")
        }
    }
}
