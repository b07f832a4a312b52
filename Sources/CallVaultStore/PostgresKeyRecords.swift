import CallVaultModel
import Foundation
import Logging
import Synchronization
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import PostgresNIO

/// The key store's rows in the `key_*` tables of a shared PostgreSQL database (schema version 8).
///
/// ``KeyStore`` is synchronous, so this backend is too: each statement runs on an event loop of the
/// store's own (one thread, never an ingest loop), and the calling thread waits for it, within
/// `settings.operationTimeout` per statement (past it the connection is closed and the call fails
/// `databaseFailed` naming the database, never the password). It must not be called on a NIO event loop
/// (NIO traps a `wait()` there). Connections are made directly (not through `PostgresClient`, whose
/// connections can only be borrowed asynchronously) and kept for reuse, up to `maximumConnections` idle.
///
/// Write transactions take `pg_advisory_xact_lock(keyStoreLockKey)` first, so key-store writers on every
/// node are serialised as SQLite serialises them (an IMMEDIATE transaction): a check-then-insert (a day
/// key made on first use) cannot race another node's. Writes that only add a data key under a day key
/// already there (``writeAdding(_:)``, what every recording does) take it shared instead: they run side by
/// side, and wait only for (and hold off) the exclusive ones. Reads run in REPEATABLE READ READ ONLY transactions
/// (one snapshot, as on SQLite).
///
/// Opening migrates the schema through ``PostgresPool`` (the advisory lock and the version checks the
/// catalog uses), so the `key_*` tables arrive with the rest of the schema.
final class PostgresKeyRecords: KeyRecordStore {
    /// Serialises key-store write transactions across nodes ("CVKEYS" as bytes).
    static let keyStoreLockKey: Int64 = 0x4356_4B45_5953

    let settings: PostgresStoreSettings
    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let idle = Mutex<[PostgresConnection]>([])
    private let closed = Atomic(false)
    private let nextID = Atomic(1)

    var location: String { settings.description }

    /// Connects, migrates the schema (to version 8 or later) and returns the store.
    static func open(_ settings: PostgresStoreSettings, logger: Logger) async throws(KeyStoreError) -> PostgresKeyRecords {
        do throws(JobQueueError) {
            let pool = try await PostgresPool.open(settings, logger: logger, doing: "open the key store")
            await pool.close()
        } catch {
            throw KeyStoreError(.databaseFailed, "cannot open the key store: \(error.message)")
        }
        return PostgresKeyRecords(settings: settings, logger: logger)
    }

    private init(settings: PostgresStoreSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        if !closed.load(ordering: .acquiring) { closeConnections() }
        group.shutdownGracefully { _ in }
    }

    /// Closes the idle connections and waits for them (call it off the event loops).
    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let connections = idle.withLock { connections in
            defer { connections.removeAll() }
            return connections
        }
        for connection in connections {
            let closing: EventLoopFuture<Void> = connection.close()
            try? closing.wait()
        }
    }

    private func closeConnections() {
        let connections = idle.withLock { connections in
            defer { connections.removeAll() }
            return connections
        }
        for connection in connections { Self.closeNow(connection) }
    }

    /// Closes a connection without waiting (the future-returning `close()`, not the async one).
    /// The connection stays referenced until it is closed (postgres-nio traps one released unclosed).
    static func closeNow(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    func write<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try transaction(readOnly: false, body)
    }

    func writeAdding<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try transaction(readOnly: false, sharedLock: true, body)
    }

    func read<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try transaction(readOnly: true, body)
    }

    /// The root-key check: `candidate` stored unless one is there, then the stored one (see `key_root_check`).
    func rootKeyCheck(storing candidate: [UInt8], at: Int64) throws(KeyStoreError) -> [UInt8] {
        try write { transaction throws(KeyStoreError) -> [UInt8] in
            guard let postgres = transaction as? PostgresKeyTransaction else { return candidate }
            try postgres.query(
                """
                INSERT INTO key_root_check (id, wrapped, created_at) VALUES (1, \(ByteBuffer(bytes: candidate)), \(at))
                ON CONFLICT (id) DO NOTHING
                """)
            return try postgres.storedRootKeyCheck() ?? candidate
        }
    }

    /// Deleted row versions stay until VACUUM, and in the WAL: nothing to do here that would make them
    /// unrecoverable. This backend is chosen only where day and hold keys are wrapped by a key provider
    /// (see the type's and the docs' notes), so what it keeps cannot open shredded data.
    func purgeDeletedKeys() throws(KeyStoreError) {}

    private func transaction<T>(readOnly: Bool, sharedLock: Bool = false, _ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T)
        throws(KeyStoreError) -> T
    {
        guard !closed.load(ordering: .acquiring) else {
            throw KeyStoreError(.databaseFailed, "the key store at \(location) was closed")
        }
        // Fail closed rather than stall an event loop (an ingest loop would stop serving every call on it).
        if MultiThreadedEventLoopGroup.currentEventLoop != nil {
            throw KeyStoreError(
                .databaseFailed,
                "the key store at \(location) was called on an event loop, where it must not wait for the database; "
                    + "nothing was done")
        }
        let connection = try borrow()
        let transaction = PostgresKeyTransaction(
            connection: connection, location: location, timeout: settings.operationTimeout, logger: logger)
        do throws(KeyStoreError) {
            try transaction.run(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
            if sharedLock {
                try transaction.run("SELECT pg_advisory_xact_lock_shared(\(Self.keyStoreLockKey))")
            } else if !readOnly {
                try transaction.run("SELECT pg_advisory_xact_lock(\(Self.keyStoreLockKey))")
            }
            let result = try body(transaction)
            try transaction.run("COMMIT")
            giveBack(connection)
            return result
        } catch {
            if !connection.isClosed, (try? transaction.run("ROLLBACK")) != nil {
                giveBack(connection)
            } else {
                Self.closeNow(connection)
            }
            throw error
        }
    }

    private func borrow() throws(KeyStoreError) -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        do {
            let configuration = try PostgresPool.connectionConfiguration(settings)
            return try PostgresConnection.connect(
                on: group.next(), configuration: configuration, id: nextID.add(1, ordering: .relaxed).oldValue,
                logger: logger
            ).wait()
        } catch {
            throw KeyStoreError(
                .databaseFailed,
                "cannot reach the key store at \(location): \(PostgresKeyTransaction.describe(error)) "
                    + "(is PostgreSQL running and reachable?)")
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        let kept = idle.withLock { connections -> Bool in
            guard !closed.load(ordering: .acquiring), connections.count < max(1, settings.maximumConnections) else {
                return false
            }
            connections.append(connection)
            return true
        }
        if !kept { Self.closeNow(connection) }
    }
}

/// One transaction of ``PostgresKeyRecords`` on one connection; each method blocks for its statement.
struct PostgresKeyTransaction: KeyRecordTransaction {
    let connection: PostgresConnection
    let location: String
    let timeout: Duration
    let logger: Logger

    /// What a failure says: the server's message and SQLSTATE, or the error's type; never a password.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if error.code == .server, let info = error.serverInfo {
                return "\(info[.message] ?? "error") (SQLSTATE \(info[.sqlState] ?? "?"))"
            }
            return "\(error.code)"
        }
        return "\(type(of: error))"
    }

    /// Runs one statement and waits for it, within the timeout (past it the connection is closed).
    @discardableResult
    func query(_ query: PostgresQuery) throws(KeyStoreError) -> PostgresQueryResult {
        let connection = connection
        let limit = timeout.components
        let timer = connection.eventLoop.scheduleTask(
            in: .milliseconds(limit.seconds * 1000 + limit.attoseconds / 1_000_000_000_000_000)
        ) { PostgresKeyRecords.closeNow(connection) }
        defer { timer.cancel() }
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(location): \(Self.describe(error))")
        }
    }

    func run(_ sql: String) throws(KeyStoreError) {
        try query(PostgresQuery(unsafeSQL: sql))
    }

    private func rows<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) throws(KeyStoreError) -> [T] {
        let result = try self.query(query)
        do {
            return try result.rows.map(decode)
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(location): unreadable row (\(Self.describe(error)))")
        }
    }

    private func affected(_ query: PostgresQuery) throws(KeyStoreError) -> Int {
        try self.query(query).metadata.rows ?? 0
    }

    private static let dayColumns = "key_id, tenant_id, day, kind, wrapped, provider_key, created_at"
    private static let dataColumns =
        "owner_id, tenant_id, key_id, kind, expires_on, held, wrapping_key_id, wrapped, created_at"

    private static func dayKey(_ row: PostgresRow) throws -> DayKeyRecord {
        let (keyID, tenantID, day, kind, wrapped, providerKey, createdAt) = try row.decode(
            (String, String, String, String, Data, String?, Int64).self)
        return DayKeyRecord(
            keyID: keyID, tenantID: tenantID, day: day, kind: kind, wrapped: [UInt8](wrapped), providerKey: providerKey,
            createdAt: createdAt)
    }

    private static func dataKey(_ row: PostgresRow) throws -> DataKeyRecord {
        let (ownerID, tenantID, keyID, kind, expiresOn, held, wrappingKeyID, wrapped, createdAt) = try row.decode(
            (String, String, String, String, String, Bool, String, Data, Int64).self)
        return DataKeyRecord(
            ownerID: ownerID, tenantID: tenantID, keyID: keyID, kind: kind, expiresOn: expiresOn, held: held,
            wrappingKeyID: wrappingKeyID, wrapped: [UInt8](wrapped), createdAt: createdAt)
    }

    private static func wrappedKey(_ row: PostgresRow) throws -> WrappedKeyRecord {
        let (keyID, wrapped, providerKey) = try row.decode((String, Data, String?).self)
        return WrappedKeyRecord(keyID: keyID, wrapped: [UInt8](wrapped), providerKey: providerKey)
    }

    func storedRootKeyCheck() throws(KeyStoreError) -> [UInt8]? {
        try rows("SELECT wrapped FROM key_root_check WHERE id = 1") { [UInt8](try $0.decode(Data.self)) }.first
    }

    func tenantKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord? {
        try rows(
            "SELECT key_id, wrapped, NULL::text FROM key_tenant WHERE tenant_id = \(tenantID)", Self.wrappedKey
        ).first
    }

    func insertTenantKey(tenantID: String, keyID: String, wrapped: [UInt8], createdAt: Int64) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_tenant (tenant_id, key_id, wrapped, created_at)
            VALUES (\(tenantID), \(keyID), \(ByteBuffer(bytes: wrapped)), \(createdAt))
            """)
    }

    func holdKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord? {
        try rows(
            "SELECT key_id, wrapped, provider_key FROM key_hold WHERE tenant_id = \(tenantID)", Self.wrappedKey
        ).first
    }

    func insertHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_hold (tenant_id, key_id, wrapped, created_at, provider_key)
            VALUES (\(tenantID), \(key.keyID), \(ByteBuffer(bytes: key.wrapped)), \(createdAt), \(key.providerKey))
            """)
    }

    func replaceHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError) -> Bool {
        try affected(
            """
            UPDATE key_hold SET key_id = \(key.keyID), wrapped = \(ByteBuffer(bytes: key.wrapped)), provider_key = \(key.providerKey),
                created_at = \(createdAt)
            WHERE tenant_id = \(tenantID)
            """) == 1
    }

    func tenantsWithLocalHoldKeys() throws(KeyStoreError) -> [String] {
        try rows("SELECT tenant_id FROM key_hold WHERE provider_key IS NULL ORDER BY tenant_id") {
            try $0.decode(String.self)
        }
    }

    func dayKey(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> DayKeyRecord? {
        try rows(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.dayColumns) FROM key_day WHERE tenant_id = $1 AND day = $2 AND kind = $3",
                binds: binds(tenantID, day, kind)),
            Self.dayKey
        ).first
    }

    func dayKey(keyID: String) throws(KeyStoreError) -> DayKeyRecord? {
        try rows(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.dayColumns) FROM key_day WHERE key_id = $1", binds: binds(keyID)),
            Self.dayKey
        ).first
    }

    /// Binds text values in order ($1, $2, …).
    private func binds(_ values: String...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return bindings
    }

    /// The WHERE clause of a day-key filter, with its bindings.
    private func filtered(_ select: String, _ filter: DayKeyFilter, orderBy: String?) -> PostgresQuery {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func add(_ condition: (Int) -> String, _ append: (inout PostgresBindings) -> Void) {
            append(&bindings)
            conditions.append(condition(bindings.count))
        }
        if let before = filter.before { add({ "day < $\($0)" }) { $0.append(before) } }
        if let kind = filter.kind { add({ "kind = $\($0)" }) { $0.append(kind) } }
        if let tenantID = filter.tenantID { add({ "tenant_id = $\($0)" }) { $0.append(tenantID) } }
        if let provider = filter.providerWrapped {
            conditions.append(provider ? "provider_key IS NOT NULL" : "provider_key IS NULL")
        }
        if let createdAt = filter.createdAtOrBefore { add({ "created_at <= $\($0)" }) { $0.append(createdAt) } }
        var sql = select + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
        if let orderBy { sql += " ORDER BY " + orderBy }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    func dayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> [DayKeyRecord] {
        try rows(
            filtered("SELECT \(Self.dayColumns) FROM key_day", filter, orderBy: "day, tenant_id, kind"), Self.dayKey)
    }

    func countDayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> Int {
        try rows(filtered("SELECT count(*) FROM key_day", filter, orderBy: nil)) { try $0.decode(Int.self) }.first ?? 0
    }

    func insertDayKey(_ record: DayKeyRecord) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_day (key_id, tenant_id, day, kind, wrapped, created_at, provider_key)
            VALUES (\(record.keyID), \(record.tenantID), \(record.day), \(record.kind), \(ByteBuffer(bytes: record.wrapped)),
                    \(record.createdAt), \(record.providerKey))
            """)
    }

    func deleteDayKey(keyID: String) throws(KeyStoreError) {
        try query("DELETE FROM key_day WHERE key_id = \(keyID)")
    }

    func moveDayKeyToProvider(keyID: String, wrapped: [UInt8], providerKey: String) throws(KeyStoreError) -> Bool {
        try affected(
            """
            UPDATE key_day SET wrapped = \(ByteBuffer(bytes: wrapped)), provider_key = \(providerKey)
            WHERE key_id = \(keyID) AND provider_key IS NULL
            """) == 1
    }

    func isDayKeyDestroyed(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> Bool {
        !(try rows(
            "SELECT 1 FROM key_destroyed_day WHERE tenant_id = \(tenantID) AND day = \(day) AND kind = \(kind)"
        ) { _ in true }).isEmpty
    }

    func recordDestroyedDayKey(_ record: DayKeyRecord, at: Int64) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_destroyed_day (key_id, tenant_id, day, kind, destroyed_at)
            VALUES (\(record.keyID), \(record.tenantID), \(record.day), \(record.kind), \(at))
            """)
    }

    func dataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> DataKeyRecord? {
        try rows(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.dataColumns) FROM key_data WHERE owner_id = $1 AND tenant_id = $2",
                binds: binds(ownerID, tenantID)),
            Self.dataKey
        ).first
    }

    func ownerHasOrHadDataKey(_ ownerID: String) throws(KeyStoreError) -> Bool {
        !(try rows(
            """
            SELECT 1 FROM key_data WHERE owner_id = \(ownerID)
            UNION ALL SELECT 1 FROM key_shredded_data WHERE owner_id = \(ownerID)
            """
        ) { _ in true }).isEmpty
    }

    func insertDataKey(_ record: DataKeyRecord) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_data
                (owner_id, tenant_id, key_id, kind, expires_on, held, wrapping_key_id, wrapped, created_at)
            VALUES (\(record.ownerID), \(record.tenantID), \(record.keyID), \(record.kind), \(record.expiresOn),
                    \(record.held), \(record.wrappingKeyID), \(ByteBuffer(bytes: record.wrapped)), \(record.createdAt))
            """)
    }

    func rewrapDataKey(ownerID: String, wrappingKeyID: String, wrapped: [UInt8], held: Bool, expiresOn: String?)
        throws(KeyStoreError)
    {
        try query(
            """
            UPDATE key_data SET held = \(held), wrapping_key_id = \(wrappingKeyID), wrapped = \(ByteBuffer(bytes: wrapped)),
                expires_on = COALESCE(\(expiresOn), expires_on)
            WHERE owner_id = \(ownerID)
            """)
    }

    func dataKeys(wrappedBy keyID: String, held: Bool) throws(KeyStoreError) -> [DataKeyRecord] {
        var bindings = PostgresBindings()
        bindings.append(keyID)
        bindings.append(held)
        return try rows(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(Self.dataColumns) FROM key_data WHERE wrapping_key_id = $1 AND held = $2 ORDER BY owner_id",
                binds: bindings),
            Self.dataKey)
    }

    func shreddedDataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> ShreddedDataKeyRecord? {
        try rows(
            """
            SELECT key_id, reason, shredded_at FROM key_shredded_data
            WHERE owner_id = \(ownerID) AND tenant_id = \(tenantID)
            """
        ) { row in
            let (keyID, reason, at) = try row.decode((String, String, Int64).self)
            return ShreddedDataKeyRecord(keyID: keyID, reason: reason, shreddedAt: at)
        }.first
    }

    func shredDataKeys(wrappedBy keyID: String, reason: String, at: Int64) throws(KeyStoreError) -> Int {
        try rows(
            """
            WITH gone AS (DELETE FROM key_data WHERE wrapping_key_id = \(keyID) AND NOT held
                          RETURNING owner_id, tenant_id, key_id),
                 tombstones AS (INSERT INTO key_shredded_data (owner_id, tenant_id, key_id, reason, shredded_at)
                                SELECT owner_id, tenant_id, key_id, \(reason), \(at) FROM gone)
            SELECT count(*) FROM gone
            """
        ) { try $0.decode(Int.self) }.first ?? 0
    }

    func shredDataKeys(owners: [(ownerID: String, tenantID: String)], reason: String, at: Int64)
        throws(KeyStoreError) -> (destroyed: Int, held: [String])
    {
        let ownerIDs = owners.map(\.ownerID)
        let tenantIDs = owners.map(\.tenantID)
        let held = try rows(
            """
            SELECT DISTINCT d.owner_id FROM key_data d
            JOIN unnest(\(ownerIDs)::text[], \(tenantIDs)::text[]) AS o(owner_id, tenant_id)
              ON d.owner_id = o.owner_id AND d.tenant_id = o.tenant_id
            WHERE d.held ORDER BY d.owner_id
            """
        ) { try $0.decode(String.self) }
        let destroyed =
            try rows(
                """
                WITH o AS (SELECT DISTINCT * FROM unnest(\(ownerIDs)::text[], \(tenantIDs)::text[]) AS o(owner_id, tenant_id)),
                     gone AS (DELETE FROM key_data d USING o
                              WHERE d.owner_id = o.owner_id AND d.tenant_id = o.tenant_id AND NOT d.held
                              RETURNING d.owner_id, d.tenant_id, d.key_id),
                     tombstones AS (INSERT INTO key_shredded_data (owner_id, tenant_id, key_id, reason, shredded_at)
                                    SELECT owner_id, tenant_id, key_id, \(reason), \(at) FROM gone)
                SELECT count(*) FROM gone
                """
            ) { try $0.decode(Int.self) }.first ?? 0
        return (destroyed, held)
    }

    func shredDataKey(ownerID: String, tenantID: String, keyID: String, reason: String, at: Int64) throws(KeyStoreError) {
        try query(
            """
            INSERT INTO key_shredded_data (owner_id, tenant_id, key_id, reason, shredded_at)
            VALUES (\(ownerID), \(tenantID), \(keyID), \(reason), \(at))
            """)
        try query("DELETE FROM key_data WHERE owner_id = \(ownerID)")
    }

    func retiredProviderKeys() throws(KeyStoreError) -> [(providerKey: String, tenantID: String)] {
        try rows("SELECT provider_key, tenant_id FROM key_retired_provider ORDER BY retired_at, provider_key") { row in
            let (name, tenantID) = try row.decode((String, String).self)
            return (providerKey: name, tenantID: tenantID)
        }
    }

    func retireProviderKey(_ providerKey: String, tenantID: String, day: String, kind: String, at: Int64)
        throws(KeyStoreError)
    {
        try query(
            """
            INSERT INTO key_retired_provider (provider_key, tenant_id, day, kind, retired_at)
            VALUES (\(providerKey), \(tenantID), \(day), \(kind), \(at)) ON CONFLICT (provider_key) DO NOTHING
            """)
    }

    func forgetRetiredProviderKey(_ providerKey: String) throws(KeyStoreError) {
        try query("DELETE FROM key_retired_provider WHERE provider_key = \(providerKey)")
    }
}
