import CallVaultModel
import Foundation
internal import GRDB

/// Service leases in the embedded SQLite catalog: the `service_leases` table (migration v6).
///
/// Each operation is one short write transaction; the catalog serialises writes (across processes too,
/// through SQLite's lock), so two processes acquiring at once are ordered and exactly one wins. Times are
/// the process's clock: every process using one SQLite file runs on one machine.
struct SQLiteServiceLeases: ServiceLeases {
    let catalog: Catalog

    func acquire(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        try ServiceLeaseArguments.check(name: name, holder: holder, duration: duration)
        let (now, expires) = Self.window(duration)
        return try run { () throws(CatalogError) in
            try catalog.write { db in
                // Unqualified columns in DO UPDATE are the existing row's: taken over only when it ran out or
                // is the same holder's (then extended, keeping when it was first taken).
                try db.execute(
                    sql: """
                        INSERT INTO service_leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET
                            acquired_at = CASE WHEN holder = excluded.holder THEN acquired_at
                                ELSE excluded.acquired_at END,
                            holder = excluded.holder,
                            expires_at = excluded.expires_at
                        WHERE expires_at <= ? OR holder = excluded.holder
                        """,
                    arguments: [name, holder, now, expires, now])
                return db.changesCount == 1
            }
        }
    }

    func renew(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        try ServiceLeaseArguments.check(name: name, holder: holder, duration: duration)
        let (now, expires) = Self.window(duration)
        return try run { () throws(CatalogError) in
            try catalog.write { db in
                try db.execute(
                    sql: "UPDATE service_leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?",
                    arguments: [expires, name, holder, now])
                return db.changesCount == 1
            }
        }
    }

    func release(name: String, holder: String) async throws(ServiceLeaseError) {
        try ServiceLeaseArguments.check(name: name, holder: holder)
        try run { () throws(CatalogError) in
            try catalog.write { db in
                try db.execute(
                    sql: "DELETE FROM service_leases WHERE name = ? AND holder = ?", arguments: [name, holder])
            }
        }
    }

    func current(name: String) async throws(ServiceLeaseError) -> ServiceLease? {
        try ServiceLeaseArguments.check(name: name)
        let now = Date().catalogPrecision
        return try run { () throws(CatalogError) in
            try catalog.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT holder, acquired_at, expires_at FROM service_leases WHERE name = ? AND expires_at > ?",
                    arguments: [name, now]
                ).map { row in
                    ServiceLease(name: name, holder: row[0], acquiredAt: row[1], expiresAt: row[2])
                }
            }
        }
    }

    /// Now and `duration` from now, as the catalog stores times (milliseconds), by this process's clock.
    private static func window(_ duration: Duration) -> (now: Date, expires: Date) {
        let now = Date().catalogPrecision
        return (now, now.addingTimeInterval(ServiceLeaseArguments.seconds(duration)).catalogPrecision)
    }

    /// Runs a catalog operation, turning its error into the lease's.
    private func run<T>(_ body: () throws(CatalogError) -> T) throws(ServiceLeaseError) -> T {
        do { return try body() } catch { throw ServiceLeaseError(error) }
    }
}
