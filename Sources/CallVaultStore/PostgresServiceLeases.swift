import Foundation
import Logging
internal import PostgresNIO

/// Service leases in the shared PostgreSQL database: the `service_leases` table (schema version 5), on
/// the catalog's pool.
///
/// Every operation is one statement, so one round trip and its own short transaction, and every expiry
/// is the database server's `now()` plus the lease: nodes whose clocks disagree still agree on when a
/// lease ran out. Taking a lease is `INSERT … ON CONFLICT (name) DO UPDATE … WHERE` it ran out or is the
/// same holder's: of two nodes taking a free lease at once, one inserts and the other waits on that row,
/// then finds it held and changes nothing (PostgreSQL decides an `ON CONFLICT DO UPDATE` on the row's
/// newest committed version). Each operation has the pool's deadline, so a database that is down fails
/// it with `unavailable` instead of hanging.
struct PostgresServiceLeases: ServiceLeases {
    let pool: PostgresPool

    func acquire(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        try ServiceLeaseArguments.check(name: name, holder: holder, duration: duration)
        let seconds = ServiceLeaseArguments.seconds(duration)
        return try await changed("take the lease \(name)") { client, logger in
            try await client.query(
                """
                INSERT INTO service_leases (name, holder, acquired_at, expires_at)
                VALUES (\(name), \(holder), now(), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (name) DO UPDATE SET
                    acquired_at = CASE WHEN service_leases.holder = EXCLUDED.holder THEN service_leases.acquired_at
                        ELSE EXCLUDED.acquired_at END,
                    holder = EXCLUDED.holder,
                    expires_at = EXCLUDED.expires_at
                WHERE service_leases.expires_at <= now() OR service_leases.holder = EXCLUDED.holder
                RETURNING name
                """, logger: logger)
        }
    }

    func renew(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        try ServiceLeaseArguments.check(name: name, holder: holder, duration: duration)
        let seconds = ServiceLeaseArguments.seconds(duration)
        return try await changed("renew the lease \(name)") { client, logger in
            try await client.query(
                """
                UPDATE service_leases SET expires_at = now() + make_interval(secs => \(seconds))
                WHERE name = \(name) AND holder = \(holder) AND expires_at > now()
                RETURNING name
                """, logger: logger)
        }
    }

    func release(name: String, holder: String) async throws(ServiceLeaseError) {
        try ServiceLeaseArguments.check(name: name, holder: holder)
        _ = try await changed("release the lease \(name)") { client, logger in
            try await client.query(
                "DELETE FROM service_leases WHERE name = \(name) AND holder = \(holder) RETURNING name", logger: logger)
        }
    }

    func current(name: String) async throws(ServiceLeaseError) -> ServiceLease? {
        try ServiceLeaseArguments.check(name: name)
        let client = pool.client
        let logger = pool.logger
        return try await perform("read the lease \(name)") {
            var lease: ServiceLease?
            for try await (holder, acquiredAt, expiresAt) in try await client.query(
                """
                SELECT holder, acquired_at, expires_at FROM service_leases WHERE name = \(name) AND expires_at > now()
                """, logger: logger
            ).decode((String, Date, Date).self) {
                lease = ServiceLease(
                    name: name, holder: holder, acquiredAt: acquiredAt.postgresPrecision,
                    expiresAt: expiresAt.postgresPrecision)
            }
            return lease
        }
    }

    /// Runs one `… RETURNING` statement; true when it returned a row.
    private func changed(
        _ what: String, _ statement: @escaping @Sendable (PostgresClient, Logger) async throws -> PostgresRowSequence
    ) async throws(ServiceLeaseError) -> Bool {
        let client = pool.client
        let logger = pool.logger
        return try await perform(what) {
            var rows = 0
            for try await _ in try await statement(client, logger) { rows += 1 }
            return rows == 1
        }
    }

    /// Runs database work within the pool's operation deadline, turning any error into a
    /// ``ServiceLeaseError`` that names the database (never its password).
    private func perform<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T)
        async throws(ServiceLeaseError) -> T
    {
        do { return try await pool.run(what, body) } catch {
            throw ServiceLeaseError(PostgresErrors.queueError(error, doing: what, settings: pool.settings))
        }
    }
}
