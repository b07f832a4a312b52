public import CallVaultModel
import Foundation
internal import GRDB
internal import NIOCore
internal import PostgresNIO

/// Copies a data directory's `keys.sqlite` into the `key_*` tables of its PostgreSQL database, for
/// `callvault migrate-store` on a directory whose key provider is `pkcs11` or `transit`.
///
/// Only a store whose day and hold keys are all wrapped by the provider is copied: a day key still under
/// its tenant key (made before `keys migrate`) would put a key that shredding destroys into the shared
/// database, so it is refused before anything is copied, naming `keys migrate` (which moves them). Rows
/// keep their ids; each batch is one transaction that skips rows already there, so a killed run is
/// finished by running it again. Meant for a stopped directory. After copying, every table's row count
/// is compared on both sides. `keys.sqlite` is left as it was.
public enum KeyStoreMigration {
    /// What a copy did and found.
    public struct Report: Sendable, Codable, Equatable {
        public var tables: [StoreMigration.TableReport]
        /// Every table's counts match.
        public var verified: Bool
        public var mismatches: [String]
    }

    struct Table {
        let source: String
        let target: String
        let key: String
        let columns: [(String, StoreMigration.Kind)]
    }

    /// In foreign-key order.
    static let tables: [Table] = [
        Table(
            source: "tenant_key", target: "key_tenant", key: "tenant_id",
            columns: [("tenant_id", .text), ("key_id", .text), ("wrapped", .blob), ("created_at", .integer)]),
        Table(
            source: "hold_key", target: "key_hold", key: "tenant_id",
            columns: [
                ("tenant_id", .text), ("key_id", .text), ("wrapped", .blob), ("created_at", .integer),
                ("provider_key", .text),
            ]),
        Table(
            source: "day_key", target: "key_day", key: "key_id",
            columns: [
                ("key_id", .text), ("tenant_id", .text), ("day", .text), ("kind", .text), ("wrapped", .blob),
                ("created_at", .integer), ("provider_key", .text),
            ]),
        Table(
            source: "destroyed_day_key", target: "key_destroyed_day", key: "key_id",
            columns: [("key_id", .text), ("tenant_id", .text), ("day", .text), ("kind", .text), ("destroyed_at", .integer)]),
        Table(
            source: "data_key", target: "key_data", key: "owner_id",
            columns: [
                ("owner_id", .text), ("tenant_id", .text), ("key_id", .text), ("kind", .text), ("expires_on", .text),
                ("held", .boolean), ("wrapping_key_id", .text), ("wrapped", .blob), ("created_at", .integer),
            ]),
        Table(
            source: "shredded_data_key", target: "key_shredded_data", key: "owner_id",
            columns: [
                ("owner_id", .text), ("tenant_id", .text), ("key_id", .text), ("reason", .text), ("shredded_at", .integer),
            ]),
        Table(
            source: "retired_provider_key", target: "key_retired_provider", key: "provider_key",
            columns: [
                ("provider_key", .text), ("tenant_id", .text), ("day", .text), ("kind", .text), ("retired_at", .integer),
            ]),
    ]

    /// Copies `source` (a key store on `keys.sqlite`) into `target` (one on PostgreSQL, opened with the
    /// same root key: its root-key check was made or passed at open) and compares the counts.
    /// Blocks its thread (both stores are synchronous): call it off the cooperative pool.
    public static func copy(from source: KeyStore, to target: KeyStore, batchSize: Int = 1000) throws(KeyStoreError)
        -> Report
    {
        guard let sqlite = source.records as? SQLiteKeyRecords, let postgres = target.records as? PostgresKeyRecords else {
            throw KeyStoreError(.databaseFailed, "a key-store copy goes from keys.sqlite to PostgreSQL")
        }
        let (localDayKeys, localHolds) = try source.read { db throws(KeyStoreError) in
            (try db.countDayKeys(DayKeyFilter(providerWrapped: false)), try db.tenantsWithLocalHoldKeys())
        }
        guard localDayKeys == 0, localHolds.isEmpty else {
            throw KeyStoreError(
                .providerFailed,
                "\(sqlite.path) still has \(localDayKeys) day key(s) and \(localHolds.count) hold key(s) wrapped by "
                    + "tenant keys, which must not go into a shared database; nothing was copied (move them into the "
                    + "provider with `callvault keys migrate --to KIND` and the directory's provider options, then "
                    + "run this again)")
        }
        var reports: [StoreMigration.TableReport] = []
        for table in tables {
            var copied = 0
            var after: String?
            while true {
                let (rows, last) = try readBatch(table, from: sqlite, after: after, limit: batchSize)
                if rows.isEmpty { break }
                copied += try insert(rows, into: table, target: postgres)
                after = last
                if rows.count < batchSize { break }
            }
            let sourceCount = try count(table.source, in: sqlite)
            let targetCount = try postgres.read { db throws(KeyStoreError) -> Int in
                guard let transaction = db as? PostgresKeyTransaction else { return -1 }
                return try transaction.count(table.target)
            }
            reports.append(
                StoreMigration.TableReport(table: table.target, source: sourceCount, copied: copied, target: targetCount))
        }
        let mismatches = reports.filter { $0.source != $0.target }.map {
            "\($0.table): \($0.source) in keys.sqlite, \($0.target) in PostgreSQL"
        }
        return Report(tables: reports, verified: mismatches.isEmpty, mismatches: mismatches)
    }

    static func count(_ table: String, in sqlite: SQLiteKeyRecords) throws(KeyStoreError) -> Int {
        do {
            return try sqlite.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(sqlite.path): \(error)")
        }
    }

    static func readBatch(_ table: Table, from sqlite: SQLiteKeyRecords, after: String?, limit: Int)
        throws(KeyStoreError) -> (rows: [[StoreMigration.Value]], last: String?)
    {
        let columns = table.columns.map(\.0).joined(separator: ", ")
        let condition = after == nil ? "" : "WHERE \(table.key) > ?"
        let arguments: StatementArguments = after.map { [$0] } ?? []
        do {
            return try sqlite.database.read { db in
                var rows: [[StoreMigration.Value]] = []
                var last: String?
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT \(columns) FROM \(table.source) \(condition) ORDER BY \(table.key) LIMIT \(limit)",
                    arguments: arguments)
                while let row = try cursor.next() {
                    last = row[table.key]
                    rows.append(try table.columns.map { name, kind in try StoreMigration.postgresValue(row[name], as: kind) })
                }
                return (rows, last)
            }
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(sqlite.path): \(error)")
        }
    }

    /// One multi-row INSERT in one write transaction; rows already there are skipped. Returns how many
    /// were inserted.
    static func insert(_ rows: [[StoreMigration.Value]], into table: Table, target: PostgresKeyRecords)
        throws(KeyStoreError) -> Int
    {
        let query: PostgresQuery
        do {
            query = try StoreMigration.insertQuery(rows, into: table.target, columns: table.columns.map(\.0))
        } catch {
            throw KeyStoreError(.databaseFailed, "cannot encode a row of \(table.source) for PostgreSQL: \(type(of: error))")
        }
        return try target.write { db throws(KeyStoreError) -> Int in
            guard let transaction = db as? PostgresKeyTransaction else { return 0 }
            return try transaction.query(query).rows.count
        }
    }
}

extension PostgresKeyTransaction {
    /// The rows of one `key_*` table.
    func count(_ table: String) throws(KeyStoreError) -> Int {
        let result = try query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
        do {
            return try result.rows.first?.decode(Int.self) ?? 0
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(location): unreadable count of \(table)")
        }
    }
}
