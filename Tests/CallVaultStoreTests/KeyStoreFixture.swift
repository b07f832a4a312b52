import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CallVaultStore

/// The key-store conformance suite (`KeyStoreConformanceTests.swift`), one test at a time: each
/// PostgreSQL case makes a database and connections of its own.
@Suite(.serialized) enum KeyStoreConformance {}

/// A key provider in memory: AES-256 keys by name, wrapping with the key-store's own `KeyWrap`. Enough to
/// run the key store's provider paths (names, creation races, destruction) on both backends without a
/// service; the real providers have their own tests and the multi-node test below uses OpenBao.
final class MemoryKeyProvider: KeyProvider {
    private let keys = Mutex<[String: SecretKey]>([:])

    var kind: KeyProviderKind { .transit }
    var location: String { "memory" }

    /// The names of the keys it holds now.
    var names: Set<String> { keys.withLock { Set($0.keys) } }

    func createKey(named name: String) throws(KeyProviderError) {
        let fresh: SecretKey
        do { fresh = try SecretKey(randomByteCount: 32) } catch { throw KeyProviderError(.refused, "no randomness") }
        let created = keys.withLock { keys -> Bool in
            guard keys[name] == nil else { return false }
            keys[name] = fresh
            return true
        }
        if !created { throw KeyProviderError(.keyExists, "memory key \(name) exists") }
    }

    func keyExists(named name: String) throws(KeyProviderError) -> Bool { keys.withLock { $0[name] != nil } }

    private func key(_ name: String) throws(KeyProviderError) -> SecretKey {
        guard let key = keys.withLock({ $0[name] }) else { throw KeyProviderError(.keyNotFound, "memory key \(name)") }
        return key
    }

    func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        let kek = try self.key(name)
        do { return try KeyWrap.wrap(key, under: kek, context: context) } catch {
            throw KeyProviderError(.refused, "cannot wrap under \(name)")
        }
    }

    func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError) -> SecretKey {
        let kek = try self.key(name)
        do { return try KeyWrap.unwrap(wrapped, under: kek, context: context, expectedByteCount: 32) } catch {
            throw KeyProviderError(.unwrapFailed, "cannot unwrap under \(name)")
        }
    }

    func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        keys.withLock { $0.removeValue(forKey: name) != nil }
    }
}

/// Key stores under test on one fresh store of one backend: `keys.sqlite` of a temporary data
/// directory, or a fresh PostgreSQL database. ``node(_:)`` opens another store on the same rows (another
/// process on SQLite, another machine on PostgreSQL) with the same root key.
struct KeyStoreFixture: Sendable {
    let backend: Backend
    let directory: TemporaryDirectory
    let data: DataDirectory
    let postgresDatabase: String?

    static func make(_ backend: Backend) async throws -> KeyStoreFixture {
        let directory = try TemporaryDirectory("keystore-conformance")
        let data = DataDirectory(path: directory.path + "/data")
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        switch backend {
        case .sqlite:
            return KeyStoreFixture(backend: backend, directory: directory, data: data, postgresDatabase: nil)
        case .postgres:
            let database = try await PostgresServer.shared().createDatabaseOffPool()
            return KeyStoreFixture(backend: backend, directory: directory, data: data, postgresDatabase: database)
        }
    }

    /// A key store on the fixture's rows, with `provider` for day keys (nil: `local`).
    func node(_ provider: (any KeyProvider)? = nil, ttl: Duration = .seconds(300)) async throws -> KeyStore {
        let root = FileRootKey(path: data.rootKeyPath)
        switch backend {
        case .sqlite:
            return try KeyStore(
                path: data.keyStorePath, rootKey: root, logger: Logger(label: "test"), busyTimeout: 5,
                keyProviders: KeyProviderSet(default: provider), dayKeyCacheTTL: ttl)
        case .postgres:
            let server = try PostgresServer.shared()
            return try await KeyStore.open(
                postgres: server.settings(database: postgresDatabase ?? "", maximumConnections: 4), rootKey: root,
                logger: PostgresServer.quietLogger, keyProviders: KeyProviderSet(default: provider), dayKeyCacheTTL: ttl)
        }
    }

    func tearDown() async {
        if let postgresDatabase { await (try? PostgresServer.shared())?.dropDatabaseOffPool(postgresDatabase) }
        directory.remove()
    }

    /// Runs `body` on a fresh fixture, off the cooperative pool (key-store calls block their thread),
    /// and tears it down after.
    static func with(
        _ backend: Backend, _ body: @escaping @Sendable (KeyStoreFixture) async throws -> Void
    ) async throws {
        let fixture = try await make(backend)
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }
}

/// The ``KeyStoreError`` code `body` throws, or nil when it returns.
func keyStoreErrorCode<T>(_ body: () throws -> T) -> KeyStoreError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as KeyStoreError {
        return error.code
    } catch {
        Issue.record("expected a KeyStoreError, got \(error)")
        return nil
    }
}

extension SecretKey {
    /// The key's bytes, for comparing two keys in a test.
    var testBytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
