import CallVaultCrypto
public import CallVaultKeyProviders
public import CallVaultModel
internal import GRDB
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key hierarchy's store: tenant, hold, day and data keys, each wrapped under its parent, in its own
/// SQLite database (`keys.sqlite`) with `secure_delete` on.
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
    /// How often the post-shredding checkpoint is tried while another connection blocks it; each try
    /// also waits up to the busy timeout inside SQLite.
    static let checkpointAttempts = 5
    static let checkpointRetryMicroseconds: useconds_t = 50_000

    let database: DatabasePool
    let rootKey: SecretKey
    let logger: Logger
    /// Where each tenant's new day keys are wrapped (the directory's provider, or the tenant's own);
    /// none: under the tenant key (`local`).
    public let keyProviders: KeyProviderSet
    /// Unwrapped provider-wrapped day keys, for a bounded time.
    let dayKeyCache: DayKeyCache

    /// Where the database lives.
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
    public init(
        path: String, rootKey: some RootKeyProvider, logger: Logger, busyTimeout: Double = 2,
        dayKeyProvider: (any KeyProvider)? = nil, keyProviders: KeyProviderSet? = nil,
        dayKeyCacheTTL: Duration = .seconds(300)
    )
        throws(KeyStoreError)
    {
        self.path = path
        self.logger = logger
        self.keyProviders = keyProviders ?? KeyProviderSet(default: dayKeyProvider)
        self.dayKeyCache = DayKeyCache(timeToLive: dayKeyCacheTTL)
        self.rootKey = try rootKey.loadRootKey()
        try FileSystem.ensurePrivateFile(path)
        do {
            database = try DatabasePool(path: path, configuration: Self.configuration(busyTimeout: busyTimeout))
            // A committed key must survive power loss: data is sealed under it right after the commit.
            // Set on the single writer connection after GRDB's WAL set-up, which chooses NORMAL.
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(database)
            try database.read { db in try Self.checkSecureDelete(db) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "cannot open key store \(path): \(error)")
        }
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
            if try self.fetchOne(db, "SELECT 1 FROM tenant_key WHERE tenant_id = ?", [tenantID]) != nil {
                throw KeyStoreError(.tenantExists, "tenant \(tenantID) already has a key")
            }
            let keyID = KeyStoreIdentifier.random()
            let key = try Self.randomKey()
            let wrapped = try Self.wrap(key, under: self.rootKey, Self.tenantContext(tenantID, keyID))
            try self.execute(
                db,
                "INSERT INTO tenant_key (tenant_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
                [tenantID, keyID, wrapped, Self.now()]
            )
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
        try read { db throws(KeyStoreError) in
            try self.fetchOne(db, "SELECT 1 FROM tenant_key WHERE tenant_id = ?", [tenantID]) != nil
        }
    }

    /// The GRDB configuration: `secure_delete` on every connection (checked), a busy timeout, foreign
    /// keys on. Writes run in IMMEDIATE transactions (GRDB's default for writers), so two processes
    /// creating the same day key serialize instead of failing.
    static func configuration(busyTimeout: Double) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.label = "CallVault.KeyStore"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try checkSecureDelete(db)
        }
        return config
    }

    /// Throws unless this connection has `secure_delete` on (SQLite may be built with it forced off).
    static func checkSecureDelete(_ db: Database) throws {
        let value = try Int.fetchOne(db, sql: "PRAGMA secure_delete") ?? 0
        guard value == 1 else {
            throw KeyStoreError(
                .databaseFailed,
                "SQLite refused PRAGMA secure_delete=ON (got \(value)); deleted keys could survive in free pages, "
                    + "so the key store will not open"
            )
        }
    }

    static func now() -> Int64 { Int64(time(nil)) }
}
