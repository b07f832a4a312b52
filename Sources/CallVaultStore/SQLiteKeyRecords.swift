import CallVaultModel
import Foundation
internal import GRDB
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key store's rows in their own SQLite database (`keys.sqlite`), with `secure_delete` on every
/// connection (checked), `synchronous = FULL` on the writer, and the WAL checkpointed with `TRUNCATE`
/// after shredding (``purgeDeletedKeys()``), so deleted key bytes survive neither in free pages nor in
/// the log. The schema is ``migrator`` (`KeyStore+Schema.swift`).
final class SQLiteKeyRecords: KeyRecordStore {
    /// How often the post-shredding checkpoint is tried while another connection blocks it; each try
    /// also waits up to the busy timeout inside SQLite.
    static let checkpointAttempts = 5
    static let checkpointRetryMicroseconds: useconds_t = 50_000

    let database: DatabasePool
    let path: String
    let logger: Logger

    var location: String { path }

    /// Opens (creating if needed, with mode 0600) and migrates the key store at `path`.
    init(path: String, busyTimeout: Double, logger: Logger) throws(KeyStoreError) {
        self.path = path
        self.logger = logger
        try FileSystem.ensurePrivateFile(path)
        do {
            database = try DatabasePool(path: path, configuration: Self.configuration(busyTimeout: busyTimeout))
            // A committed key must survive power loss: data is sealed under it right after the commit.
            // Set on the single writer connection after GRDB's WAL set-up, which chooses NORMAL.
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try KeyStore.migrator.migrate(database)
            try database.read { db in try Self.checkSecureDelete(db) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "cannot open key store \(path): \(error)")
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

    func write<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        do {
            return try database.write { db in try body(SQLiteKeyTransaction(db: db, path: path)) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    func writeAdding<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try write(body)
    }

    func read<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        do {
            return try database.read { db in try body(SQLiteKeyTransaction(db: db, path: path)) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    func close() {}

    /// `PRAGMA wal_checkpoint(TRUNCATE)`, retried briefly while another connection blocks it.
    ///
    /// With `secure_delete` the deleted cells are zeroed in the new page images, but older images of the
    /// same pages stay in the WAL until it is checkpointed and truncated. The pragma's first column
    /// (`busy`) is 1 when a reader or writer kept it from finishing; then the old bytes may still be in
    /// the log, so this retries (~1 s) and otherwise throws `checkpointBlocked` rather than claiming success.
    func purgeDeletedKeys() throws(KeyStoreError) {
        var last = (busy: -1, log: -1, checkpointed: -1)
        for attempt in 0..<Self.checkpointAttempts {
            do {
                last = try database.writeWithoutTransaction { db in
                    guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else {
                        return (busy: -1, log: -1, checkpointed: -1)
                    }
                    return (busy: row[0] as Int, log: row[1] as Int, checkpointed: row[2] as Int)
                }
            } catch {
                throw KeyStoreError(.databaseFailed, "key store \(path): checkpoint failed: \(error)")
            }
            if last.busy == 0 {
                if attempt > 0 {
                    logger.debug("checkpoint succeeded after retry", metadata: ["attempts": "\(attempt + 1)"])
                }
                return
            }
            usleep(Self.checkpointRetryMicroseconds)
        }
        throw KeyStoreError(
            .checkpointBlocked,
            "key store \(path): the WAL checkpoint stayed blocked (busy=\(last.busy), log=\(last.log), "
                + "checkpointed=\(last.checkpointed)); destroyed keys may remain in \(path)-wal until another "
                + "process ends its read transaction; run the command again"
        )
    }
}

/// One GRDB transaction of ``SQLiteKeyRecords``: today's statements.
struct SQLiteKeyTransaction: KeyRecordTransaction {
    let db: Database
    let path: String

    private func failure(_ error: any Error) -> KeyStoreError {
        (error as? KeyStoreError) ?? KeyStoreError(.databaseFailed, "key store \(path): \(error)")
    }

    private func fetchOne(_ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError) -> Row? {
        do { return try Row.fetchOne(db, sql: sql, arguments: arguments) } catch { throw failure(error) }
    }

    private func fetchAll(_ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError) -> [Row] {
        do { return try Row.fetchAll(db, sql: sql, arguments: arguments) } catch { throw failure(error) }
    }

    private func execute(_ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError) {
        do { try db.execute(sql: sql, arguments: arguments) } catch { throw failure(error) }
    }

    /// A BLOB column as bytes (wrapped keys only: ciphertext, never an unwrapped key).
    private static func bytes(_ row: Row, _ column: String) -> [UInt8] {
        let data: Data? = row[column]
        return data.map { [UInt8]($0) } ?? []
    }

    private static func dayKey(_ row: Row) -> DayKeyRecord {
        DayKeyRecord(
            keyID: row["key_id"], tenantID: row["tenant_id"], day: row["day"], kind: row["kind"],
            wrapped: bytes(row, "wrapped"), providerKey: row["provider_key"], createdAt: row["created_at"])
    }

    private static func dataKey(_ row: Row) -> DataKeyRecord {
        DataKeyRecord(
            ownerID: row["owner_id"], tenantID: row["tenant_id"], keyID: row["key_id"], kind: row["kind"],
            expiresOn: row["expires_on"], held: (row["held"] as Int) == 1, wrappingKeyID: row["wrapping_key_id"],
            wrapped: bytes(row, "wrapped"), createdAt: row["created_at"])
    }

    func tenantKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord? {
        try fetchOne("SELECT key_id, wrapped FROM tenant_key WHERE tenant_id = ?", [tenantID]).map {
            WrappedKeyRecord(keyID: $0["key_id"], wrapped: Self.bytes($0, "wrapped"), providerKey: nil)
        }
    }

    func insertTenantKey(tenantID: String, keyID: String, wrapped: [UInt8], createdAt: Int64) throws(KeyStoreError) {
        try execute(
            "INSERT INTO tenant_key (tenant_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
            [tenantID, keyID, Data(wrapped), createdAt])
    }

    func holdKey(_ tenantID: String) throws(KeyStoreError) -> WrappedKeyRecord? {
        try fetchOne("SELECT key_id, wrapped, provider_key FROM hold_key WHERE tenant_id = ?", [tenantID]).map {
            WrappedKeyRecord(keyID: $0["key_id"], wrapped: Self.bytes($0, "wrapped"), providerKey: $0["provider_key"])
        }
    }

    func insertHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError) {
        try execute(
            "INSERT INTO hold_key (tenant_id, key_id, wrapped, created_at, provider_key) VALUES (?, ?, ?, ?, ?)",
            [tenantID, key.keyID, Data(key.wrapped), createdAt, key.providerKey])
    }

    func replaceHoldKey(tenantID: String, _ key: WrappedKeyRecord, createdAt: Int64) throws(KeyStoreError) -> Bool {
        try execute(
            "UPDATE hold_key SET key_id = ?, wrapped = ?, provider_key = ?, created_at = ? WHERE tenant_id = ?",
            [key.keyID, Data(key.wrapped), key.providerKey, createdAt, tenantID])
        return db.changesCount == 1
    }

    func tenantsWithLocalHoldKeys() throws(KeyStoreError) -> [String] {
        try fetchAll("SELECT tenant_id FROM hold_key WHERE provider_key IS NULL ORDER BY tenant_id").map {
            $0["tenant_id"]
        }
    }

    func dayKey(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> DayKeyRecord? {
        try fetchOne("SELECT * FROM day_key WHERE tenant_id = ? AND day = ? AND kind = ?", [tenantID, day, kind])
            .map(Self.dayKey)
    }

    func dayKey(keyID: String) throws(KeyStoreError) -> DayKeyRecord? {
        try fetchOne("SELECT * FROM day_key WHERE key_id = ?", [keyID]).map(Self.dayKey)
    }

    private func whereClause(_ filter: DayKeyFilter) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let before = filter.before {
            conditions.append("day < ?")
            arguments += [before]
        }
        if let kind = filter.kind {
            conditions.append("kind = ?")
            arguments += [kind]
        }
        if let tenantID = filter.tenantID {
            conditions.append("tenant_id = ?")
            arguments += [tenantID]
        }
        if let provider = filter.providerWrapped {
            conditions.append(provider ? "provider_key IS NOT NULL" : "provider_key IS NULL")
        }
        if let createdAt = filter.createdAtOrBefore {
            conditions.append("created_at <= ?")
            arguments += [createdAt]
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    func dayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> [DayKeyRecord] {
        let (clause, arguments) = whereClause(filter)
        return try fetchAll("SELECT * FROM day_key" + clause + " ORDER BY day, tenant_id, kind", arguments)
            .map(Self.dayKey)
    }

    func countDayKeys(_ filter: DayKeyFilter) throws(KeyStoreError) -> Int {
        let (clause, arguments) = whereClause(filter)
        return (try fetchOne("SELECT count(*) FROM day_key" + clause, arguments)?[0] as Int?) ?? 0
    }

    func insertDayKey(_ record: DayKeyRecord) throws(KeyStoreError) {
        try execute(
            """
            INSERT INTO day_key (key_id, tenant_id, day, kind, wrapped, created_at, provider_key)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [record.keyID, record.tenantID, record.day, record.kind, Data(record.wrapped), record.createdAt,
             record.providerKey])
    }

    func deleteDayKey(keyID: String) throws(KeyStoreError) {
        try execute("DELETE FROM day_key WHERE key_id = ?", [keyID])
    }

    func moveDayKeyToProvider(keyID: String, wrapped: [UInt8], providerKey: String) throws(KeyStoreError) -> Bool {
        try execute(
            "UPDATE day_key SET wrapped = ?, provider_key = ? WHERE key_id = ? AND provider_key IS NULL",
            [Data(wrapped), providerKey, keyID])
        return db.changesCount == 1
    }

    func isDayKeyDestroyed(tenantID: String, day: String, kind: String) throws(KeyStoreError) -> Bool {
        try fetchOne(
            "SELECT 1 FROM destroyed_day_key WHERE tenant_id = ? AND day = ? AND kind = ?", [tenantID, day, kind]) != nil
    }

    func recordDestroyedDayKey(_ record: DayKeyRecord, at: Int64) throws(KeyStoreError) {
        try execute(
            "INSERT INTO destroyed_day_key (key_id, tenant_id, day, kind, destroyed_at) VALUES (?, ?, ?, ?, ?)",
            [record.keyID, record.tenantID, record.day, record.kind, at])
    }

    func dataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> DataKeyRecord? {
        try fetchOne("SELECT * FROM data_key WHERE owner_id = ? AND tenant_id = ?", [ownerID, tenantID])
            .map(Self.dataKey)
    }

    func ownerHasOrHadDataKey(_ ownerID: String) throws(KeyStoreError) -> Bool {
        if try fetchOne("SELECT 1 FROM data_key WHERE owner_id = ?", [ownerID]) != nil { return true }
        return try fetchOne("SELECT 1 FROM shredded_data_key WHERE owner_id = ?", [ownerID]) != nil
    }

    func insertDataKey(_ record: DataKeyRecord) throws(KeyStoreError) {
        try execute(
            """
            INSERT INTO data_key
                (owner_id, tenant_id, key_id, kind, expires_on, held, wrapping_key_id, wrapped, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [record.ownerID, record.tenantID, record.keyID, record.kind, record.expiresOn, record.held ? 1 : 0,
             record.wrappingKeyID, Data(record.wrapped), record.createdAt])
    }

    func rewrapDataKey(ownerID: String, wrappingKeyID: String, wrapped: [UInt8], held: Bool, expiresOn: String?)
        throws(KeyStoreError)
    {
        if let expiresOn {
            try execute(
                "UPDATE data_key SET held = ?, wrapping_key_id = ?, wrapped = ?, expires_on = ? WHERE owner_id = ?",
                [held ? 1 : 0, wrappingKeyID, Data(wrapped), expiresOn, ownerID])
        } else {
            // Cached: erasure and rotation re-wrap a whole day's keys with it.
            do {
                try db.cachedStatement(sql: "UPDATE data_key SET held = ?, wrapping_key_id = ?, wrapped = ? WHERE owner_id = ?")
                    .execute(arguments: [held ? 1 : 0, wrappingKeyID, Data(wrapped), ownerID])
            } catch {
                throw failure(error)
            }
        }
    }

    func dataKeys(wrappedBy keyID: String, held: Bool) throws(KeyStoreError) -> [DataKeyRecord] {
        try fetchAll(
            "SELECT * FROM data_key WHERE wrapping_key_id = ? AND held = ? ORDER BY owner_id", [keyID, held ? 1 : 0]
        ).map(Self.dataKey)
    }

    func shreddedDataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> ShreddedDataKeyRecord? {
        try fetchOne(
            "SELECT key_id, reason, shredded_at FROM shredded_data_key WHERE owner_id = ? AND tenant_id = ?",
            [ownerID, tenantID]
        ).map { ShreddedDataKeyRecord(keyID: $0["key_id"], reason: $0["reason"], shreddedAt: $0["shredded_at"]) }
    }

    func shredDataKeys(wrappedBy keyID: String, reason: String, at: Int64) throws(KeyStoreError) -> Int {
        try execute(
            """
            INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at)
            SELECT owner_id, tenant_id, key_id, ?, ? FROM data_key WHERE wrapping_key_id = ? AND held = 0
            """,
            [reason, at, keyID])
        try execute("DELETE FROM data_key WHERE wrapping_key_id = ? AND held = 0", [keyID])
        return db.changesCount
    }

    /// Set-based: the owners go to a temporary table, then three statements do the work.
    func shredDataKeys(owners: [(ownerID: String, tenantID: String)], reason: String, at: Int64)
        throws(KeyStoreError) -> (destroyed: Int, held: [String])
    {
        try execute("CREATE TEMP TABLE IF NOT EXISTS doomed_owner (owner_id TEXT PRIMARY KEY, tenant_id TEXT)")
        try execute("DELETE FROM doomed_owner")
        do {
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO doomed_owner VALUES (?, ?)")
            for owner in owners { try insert.execute(arguments: [owner.ownerID, owner.tenantID]) }
        } catch {
            throw failure(error)
        }
        let match = "FROM data_key d JOIN doomed_owner o ON d.owner_id = o.owner_id AND d.tenant_id = o.tenant_id"
        let held = try fetchAll("SELECT d.owner_id \(match) WHERE d.held = 1").map { $0[0] as String }
        try execute(
            """
            INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at)
            SELECT d.owner_id, d.tenant_id, d.key_id, ?, ? \(match) WHERE d.held = 0
            """,
            [reason, at])
        try execute("DELETE FROM data_key WHERE held = 0 AND owner_id IN (SELECT d.owner_id \(match))")
        let destroyed = db.changesCount
        try execute("DELETE FROM doomed_owner")
        return (destroyed, held)
    }

    func shredDataKey(ownerID: String, tenantID: String, keyID: String, reason: String, at: Int64) throws(KeyStoreError) {
        try execute(
            "INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at) VALUES (?, ?, ?, ?, ?)",
            [ownerID, tenantID, keyID, reason, at])
        try execute("DELETE FROM data_key WHERE owner_id = ?", [ownerID])
    }

    func retiredProviderKeys() throws(KeyStoreError) -> [(providerKey: String, tenantID: String)] {
        try fetchAll("SELECT provider_key, tenant_id FROM retired_provider_key ORDER BY retired_at").map {
            (providerKey: $0["provider_key"], tenantID: $0["tenant_id"])
        }
    }

    func retireProviderKey(_ providerKey: String, tenantID: String, day: String, kind: String, at: Int64)
        throws(KeyStoreError)
    {
        try execute(
            """
            INSERT OR IGNORE INTO retired_provider_key (provider_key, tenant_id, day, kind, retired_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            [providerKey, tenantID, day, kind, at])
    }

    func forgetRetiredProviderKey(_ providerKey: String) throws(KeyStoreError) {
        try execute("DELETE FROM retired_provider_key WHERE provider_key = ?", [providerKey])
    }
}
