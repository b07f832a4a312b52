import CallVaultModel

/// Where the key store keeps its rows: the persistence under ``KeyStore``, one interface with two
/// backends (``SQLiteKeyRecords``, `keys.sqlite` in the data directory; ``PostgresKeyRecords``, the `key_*`
/// tables of a shared PostgreSQL database). The key hierarchy itself (wrapping, unwrapping, provider calls,
/// the day-key cache) stays in `KeyStore`, above it, and holds no SQL; the backends hold no key logic and
/// never see an unwrapped key: every `wrapped` column is ciphertext.
///
/// **Synchronous.** `KeyStore`'s API is synchronous (its callers include the recorder on an ingest event
/// loop, with `.forbidden` provider round trips, and the `DayKeyPreparer` thread), so its persistence is
/// too. The SQLite backend runs its short local transactions inline, as it always has. The PostgreSQL one
/// blocks the calling thread while its statements run on an event loop of its own: it must not be used on
/// a NIO event loop (NIO traps a `wait()` there) and it costs a blocked thread on the cooperative pool; see
/// docs/store-postgres.md, "Key store".
///
/// **Transactions.** `write` runs its body in one transaction, serialised with every other key-store
/// writer on the same store (SQLite: one writer, IMMEDIATE; PostgreSQL: a transaction-level advisory lock),
/// so a check-then-insert in a body behaves alike on both; `read` runs it on one consistent snapshot.
/// Errors are ``KeyStoreError``s (`databaseFailed`, naming the store, never a password or key bytes).
protocol KeyRecordStore: Sendable {
    /// What messages name: the SQLite file's path, or `postgres://USER@HOST:PORT/DB`.
    var location: String { get }
    func read<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T
    func write<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T
    /// A write that only adds rows under keys it reads (a new data key under a day key already there), which
    /// no other such write can conflict with: PostgreSQL takes the key-store lock *shared*, so these run side
    /// by side on every node while a ``write(_:)`` (which changes or deletes keys: a day key made, rotated or
    /// shredded) waits for them and they for it. SQLite serialises every write anyway.
    func writeAdding<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T
    /// After key rows were deleted: makes the deleted bytes unrecoverable from the store's own files where
    /// the backend can (SQLite: `secure_delete` zeroed the pages; this truncates the WAL). PostgreSQL keeps
    /// deleted row versions until VACUUM and in its WAL: it is used only where the keys shredding destroys
    /// live in a key provider, so nothing it keeps can open shredded data (see the docs).
    func purgeDeletedKeys() throws(KeyStoreError)
    /// Releases connections; the store cannot be used after.
    func close()
}

/// A wrapped tenant or hold key.
struct WrappedKeyRecord: Sendable, Equatable {
    var keyID: String
    var wrapped: [UInt8]
    /// The provider key that wraps it (hold keys of tenants in a key provider); nil: under its parent.
    var providerKey: String?
}

/// A `day_key` row: one per (tenant, expiry day, kind).
struct DayKeyRecord: Sendable, Equatable {
    var keyID: String
    var tenantID: String
    /// `yyyy-mm-dd`, compared as text (which orders days).
    var day: String
    /// `voice` or `transcript`.
    var kind: String
    var wrapped: [UInt8]
    /// nil: wrapped by the tenant key.
    var providerKey: String?
    var createdAt: Int64
}

/// Which day keys a listing or count takes; nil fields do not filter.
struct DayKeyFilter: Sendable, Equatable {
    /// Days before this one (`day < before`).
    var before: String?
    var kind: String?
    var tenantID: String?
    /// true: only provider-wrapped ones; false: only tenant-wrapped ones.
    var providerWrapped: Bool?
    /// Made at or before this instant (seconds since 1970).
    var createdAtOrBefore: Int64?

    init(
        before: String? = nil, kind: String? = nil, tenantID: String? = nil, providerWrapped: Bool? = nil,
        createdAtOrBefore: Int64? = nil
    ) {
        self.before = before
        self.kind = kind
        self.tenantID = tenantID
        self.providerWrapped = providerWrapped
        self.createdAtOrBefore = createdAtOrBefore
    }
}

/// A `data_key` row: one per recording or transcript.
struct DataKeyRecord: Sendable, Equatable {
    var ownerID: String
    var tenantID: String
    var keyID: String
    var kind: String
    var expiresOn: String
    var held: Bool
    /// The day key's id, or the hold key's when held.
    var wrappingKeyID: String
    var wrapped: [UInt8]
    var createdAt: Int64
}

/// A shredded data key's tombstone.
struct ShreddedDataKeyRecord: Sendable, Equatable {
    var keyID: String
    /// `expired` or `erased`.
    var reason: String
    var shreddedAt: Int64
}

/// The operations of one key-store transaction. Every method is one statement (or a few, set-based);
/// none unwraps anything.
protocol KeyRecordTransaction {
    // Tenant keys (under the root key).
    func tenantKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord?
    func insertTenantKey(tenantID: String, keyID: String, wrapped: [UInt8], createdAt: Int64) throws(KeyStoreError)

    // Hold keys (one per tenant).
    func holdKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord?
    func insertHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError)
    /// Replaces the tenant's hold-key row with `key`; false when it has none.
    func replaceHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError) -> Bool
    /// Tenants whose hold key is wrapped by their tenant key, in id order.
    func tenantsWithLocalHoldKeys() throws(KeyStoreError) -> [String]

    // Day keys.
    func dayKey(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> DayKeyRecord?
    func dayKey(keyID: String) throws(KeyStoreError) -> DayKeyRecord?
    /// Ordered by day, tenant, kind.
    func dayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> [DayKeyRecord]
    func countDayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> Int
    func insertDayKey(_ record: DayKeyRecord) throws(KeyStoreError)
    func deleteDayKey(keyID: String) throws(KeyStoreError)
    /// Re-wraps a tenant-wrapped day key under `providerKey` in place; false when it is gone or moved already.
    func moveDayKeyToProvider(keyID: String, wrapped: [UInt8], providerKey: String) throws(KeyStoreError) -> Bool
    func isDayKeyDestroyed(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> Bool
    /// The tombstone of a destroyed day key (its id, tenant, day and kind).
    func recordDestroyedDayKey(_ record: DayKeyRecord, at: Int64) throws(KeyStoreError)

    // Data keys.
    func dataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> DataKeyRecord?
    /// Whether the owner has a data key or a tombstone (in any tenant).
    func ownerHasOrHadDataKey(_ ownerID: String) throws(KeyStoreError) -> Bool
    func insertDataKey(_ record: DataKeyRecord) throws(KeyStoreError)
    /// Sets the key's wrapping (and its expiry day when given).
    func rewrapDataKey(ownerID: String, wrappingKeyID: String, wrapped: [UInt8], held: Bool, expiresOn: String?)
        throws(KeyStoreError)
    /// The data keys wrapped by `keyID` that are (not) held, in owner order.
    func dataKeys(wrappedBy keyID: String, held: Bool) throws(KeyStoreError) -> [DataKeyRecord]
    func shreddedDataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> ShreddedDataKeyRecord?
    /// Tombstones and deletes the unheld data keys wrapped by `keyID`; returns how many.
    @discardableResult
    func shredDataKeys(wrappedBy keyID: String, reason: String, at: Int64) throws(KeyStoreError) -> Int
    /// Tombstones and deletes the owners' unheld data keys (unknown and shredded owners are skipped);
    /// returns how many went, and the owners whose keys are held (left alone).
    func shredDataKeys(owners: [(ownerID: String, tenantID: String)], reason: String, at: Int64)
        throws(KeyStoreError) -> (destroyed: Int, held: [String])

    /// Tombstones and deletes one data key, held or not (a hold released past its day).
    func shredDataKey(ownerID: String, tenantID: String, keyID: String, reason: String, at: Int64) throws(KeyStoreError)

    // Provider keys replaced by erasure, rotation or a hold release, until the provider destroys them.
    /// Oldest first.
    func retiredProviderKeys() throws(KeyStoreError) -> [(providerKey: String, tenantID: String)]
    /// Does nothing when the name is there already.
    func retireProviderKey(_ providerKey: String, tenantID: String, day: String, kind: String, at: Int64)
        throws(KeyStoreError)
    func forgetRetiredProviderKey(_ providerKey: String) throws(KeyStoreError)
}
