import CallVaultCrypto
import Foundation
public import CallVaultKeyProviders
public import CallVaultModel
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key hierarchy's store: tenant, hold, day and data keys, each wrapped under its parent, in its own
/// SQLite database (`keys.sqlite`) with `secure_delete` on, or in the `key_*` tables of a shared
/// PostgreSQL database (``open(postgres:rootKey:logger:keyProviders:dayKeyCacheTTL:)``; for directories
/// whose day keys are in a key provider). Its rows are behind ``KeyRecordStore``; this type holds the logic.
///
/// ```
/// root key ─ tenant key (per tenant) ─┬─ hold key (per tenant) ─ held data keys
///                                     └─ day key (per tenant, expiry day, kind) ─ data keys
/// ```
///
/// Every wrap carries a `KeyContext` (tenant id, key id, purpose; a data key's purpose names its owner)
/// as associated data, so a wrapped key moved to another tenant, day or recording fails to unwrap.
///
/// **No key cache for local keys.** Tenant, hold and tenant-wrapped day keys are unwrapped from the
/// database on every call and dropped when the call returns; only the root key lives for the store's
/// lifetime. A `dataKey` lookup costs three AES-GCM unwraps (microseconds), done once per recording,
/// not per frame. In exchange a key destroyed by another process (the sweeper) is gone for this one at
/// once, and no unwrapped day key outlives its use in memory.
///
/// **Day keys in a key provider.** Opened with a `dayKeyProvider`, the store wraps each *new* day key
/// under a provider key of its own, `cv.<tenant>.<kind>.<expiry day>` (see ``providerKeyName(tenantID:kind:day:)``),
/// created in the provider on first use; `day_key.provider_key` names it (NULL: wrapped by the tenant
/// key, as before). Such day keys are unwrapped by the provider and kept in a ``DayKeyCache`` for a
/// bounded time (a provider round trip per tenant, kind and day, not per recording); the cache is only
/// consulted while the day key's row exists, so a day destroyed by another process is gone here too.
/// Provider calls are made outside write transactions. Destroying such a day key destroys its provider
/// key first: every copy of the day key's row, in any backup, is then dead.
///
/// **Shredding.** Destroying a day key also deletes the wrapped data keys under it (so a copy of the
/// day key in a backup cannot be used with a current data-key row, and vice versa), writes a tombstone
/// (to tell "shredded" from "never existed"), then checkpoints the WAL with `TRUNCATE` so the deleted
/// bytes survive neither in free pages (secure_delete zeroes them) nor in the log.
public final class KeyStore: Sendable {
    /// Where the rows live: `keys.sqlite` (``SQLiteKeyRecords``) or PostgreSQL (``PostgresKeyRecords``).
    let records: any KeyRecordStore
    let rootKey: SecretKey
    let logger: Logger
    /// Where each tenant's new day keys are wrapped (the directory's provider, or the tenant's own);
    /// none: under the tenant key (`local`).
    public let keyProviders: KeyProviderSet
    /// Unwrapped provider-wrapped day keys, for a bounded time.
    let dayKeyCache: DayKeyCache

    /// Where the key store lives: the SQLite file's path, or `postgres://USER@HOST:PORT/DB` (no password).
    public let path: String

    /// Opens (creating if needed, with mode 0600) the key store at `path` and migrates it.
    ///
    /// - Parameters:
    ///   - path: the SQLite file, normally `DataDirectory.keyStorePath`.
    ///   - rootKey: where the root key comes from; it is loaded once, here.
    ///   - logger: receives tenant ids, key ids and counts, never key bytes.
    ///   - busyTimeout: seconds a statement waits for another process's lock (and a checkpoint for readers).
    ///   - dayKeyProvider: wraps new day keys under provider keys; nil keeps them under the tenant key.
    ///   - keyProviders: instead of `dayKeyProvider`, the directory's provider and tenants' own providers.
    ///   - dayKeyCacheTTL: how long an unwrapped provider-wrapped day key stays in memory.
    public convenience init(
        path: String, rootKey: some RootKeyProvider, logger: Logger, busyTimeout: Double = 2,
        dayKeyProvider: (any KeyProvider)? = nil, keyProviders: KeyProviderSet? = nil,
        dayKeyCacheTTL: Duration = .seconds(300)
    )
        throws(KeyStoreError)
    {
        let root = try rootKey.loadRootKey()
        try self.init(
            records: SQLiteKeyRecords(path: path, busyTimeout: busyTimeout, logger: logger), rootKey: root,
            logger: logger, keyProviders: keyProviders ?? KeyProviderSet(default: dayKeyProvider),
            dayKeyCacheTTL: dayKeyCacheTTL)
    }

    /// Opens the key store in the `key_*` tables of a PostgreSQL database, migrating its schema (version 8:
    /// the same migration list, advisory lock and version checks as the catalog's).
    ///
    /// The keys that shredding destroys must not live in a shared database (a database backup would
    /// bring voice back): a data directory keeps its keys here only when its key provider is `pkcs11` or
    /// `transit` (the CLI's selection enforces it; see docs/store-postgres.md, "Key store"). This store's
    /// methods block their thread for each statement: never call them on a NIO event loop.
    public static func open(
        postgres settings: PostgresStoreSettings, rootKey: some RootKeyProvider, logger: Logger,
        keyProviders: KeyProviderSet, dayKeyCacheTTL: Duration = .seconds(300)
    ) async throws(KeyStoreError) -> KeyStore {
        let root = try rootKey.loadRootKey()
        let records = try await PostgresKeyRecords.open(settings, logger: logger)
        let store = try KeyStore(
            records: records, rootKey: root, logger: logger, keyProviders: keyProviders, dayKeyCacheTTL: dayKeyCacheTTL)
        do {
            try await offThePool { () throws(KeyStoreError) in try store.checkRootKey(records) }
        } catch {
            records.close()
            throw error
        }
        return store
    }

    /// Refuses a root key other than the one the database's keys were made under (every node of a
    /// database needs the same `root.key`: the tenant keys there are wrapped under it).
    private func checkRootKey(_ records: PostgresKeyRecords) throws(KeyStoreError) {
        let context = KeyContext(tenantID: "-", keyID: "root-check", purpose: "root-check")
        let candidate = try Self.wrap(try Self.randomKey(), under: rootKey, context)
        let stored = try records.rootKeyCheck(storing: candidate, at: Self.now())
        do {
            _ = try KeyWrap.unwrap(stored, under: rootKey, context: context, expectedByteCount: 32)
        } catch {
            throw KeyStoreError(
                .rootKeyCorrupt,
                "this data directory's root key is not the one the keys in \(records.location) were made under (a "
                    + "directory set up on its own?): every machine on one database needs the same root.key; copy it "
                    + "from a data directory already on this database before `callvault init`")
        }
    }

    /// Runs blocking key-store work on a thread of its own, not on the cooperative pool.
    private static func offThePool(_ work: @escaping @Sendable () throws(KeyStoreError) -> Void) async throws(KeyStoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<KeyStoreError?, Never>) in
            let thread = Thread {
                do throws(KeyStoreError) {
                    try work()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
            thread.start()
        }
        if let result { throw result }
    }

    /// A key store over `records` (either backend).
    init(records: any KeyRecordStore, rootKey: SecretKey, logger: Logger, keyProviders: KeyProviderSet, dayKeyCacheTTL: Duration)
        throws(KeyStoreError)
    {
        self.records = records
        self.path = records.location
        self.rootKey = rootKey
        self.logger = logger
        self.keyProviders = keyProviders
        self.dayKeyCache = DayKeyCache(timeToLive: dayKeyCacheTTL)
    }

    /// Opens the key store of a data directory, with its file root key.
    public convenience init(
        dataDirectory: DataDirectory, logger: Logger, busyTimeout: Double = 2, dayKeyProvider: (any KeyProvider)? = nil,
        keyProviders: KeyProviderSet? = nil
    )
        throws(KeyStoreError)
    {
        try dataDirectory.checkPrivate()
        try self.init(
            path: dataDirectory.keyStorePath,
            rootKey: FileRootKey(path: dataDirectory.rootKeyPath),
            logger: logger,
            busyTimeout: busyTimeout,
            dayKeyProvider: dayKeyProvider,
            keyProviders: keyProviders
        )
    }

    /// The directory's key provider (nil for `local`); a tenant may have its own (``provider(for:)``).
    public var dayKeyProvider: (any KeyProvider)? { keyProviders.defaultProvider }

    /// The provider that wraps `tenantID`'s day keys, opened on first use; nil for the tenant key.
    /// A tenant's own provider that cannot be opened is `providerFailed` naming the tenant.
    func provider(for tenantID: String) throws(KeyStoreError) -> (any KeyProvider)? {
        do throws(KeyProviderError) {
            return try keyProviders.provider(for: tenantID)
        } catch {
            throw KeyStoreError(
                .providerFailed,
                "tenant \(tenantID)'s own key provider cannot be opened (\(error.code.rawValue): \(error.message)); "
                    + "its day keys cannot be made or opened until it answers, other tenants go on"
            )
        }
    }

    /// Creates the tenant's key: 32 random bytes wrapped under the root key.
    ///
    /// Throws `tenantExists` if the tenant already has one (its data would become unreadable if replaced).
    public func createTenant(_ tenantID: String) throws(KeyStoreError) {
        try KeyStoreIdentifier.validate(tenantID, what: "tenant id")
        try write { db throws(KeyStoreError) in
            if try db.tenantKey(tenantID) != nil {
                throw KeyStoreError(.tenantExists, "tenant \(tenantID) already has a key")
            }
            let keyID = KeyStoreIdentifier.random()
            let key = try Self.randomKey()
            let wrapped = try Self.wrap(key, under: self.rootKey, Self.tenantContext(tenantID, keyID))
            try db.insertTenantKey(tenantID: tenantID, keyID: keyID, wrapped: wrapped, createdAt: Self.now())
        }
        logger.info("tenant key created", metadata: ["tenant": "\(tenantID)"])
    }

    /// Creates the tenant's key unless it has one: for a tenant added by an older build, or a catalog
    /// restored without its key store. Safe when another process creates it at the same moment.
    public func ensureTenant(_ tenantID: String) throws(KeyStoreError) {
        guard try !hasTenant(tenantID) else { return }
        do {
            try createTenant(tenantID)
        } catch where error.code == .tenantExists {
            return
        }
    }

    /// Whether the tenant has a key.
    public func hasTenant(_ tenantID: String) throws(KeyStoreError) -> Bool {
        try read { db throws(KeyStoreError) in try db.tenantKey(tenantID) != nil }
    }

    static func now() -> Int64 { Int64(time(nil)) }
}
