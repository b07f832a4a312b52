import CallVaultModel
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Named leases in the catalog's database, so that of several nodes running the same service exactly one
/// acts at a time (`callvault sweep`: one sweeper, the others stand by) and another takes over when the
/// holder dies.
///
/// A lease is a row: its name, its holder and when it runs out. A holder keeps it by renewing it well
/// before that (a third of its duration is the habit); a holder that stops (killed, paused, cut off from
/// the database) loses it at expiry, and from then on the next ``acquire(name:holder:for:)`` of another
/// holder succeeds. Expiry is judged by one clock for everyone: the database server's on PostgreSQL (so
/// nodes whose clocks disagree still agree), the process's on SQLite (one machine, one clock).
///
/// Holder names must be unique per process (``ServiceLeaseHolder/unique(_:)``): the lease cannot tell two
/// processes with one name apart. Reached through ``serviceLeases(for:)``, not through ``CatalogStore``
/// (which other backends implement and must not have to grow for this).
public protocol ServiceLeases: Sendable {
    /// Takes the lease `name` for `holder` for `duration` if no one holds it, its holder let it run out,
    /// or `holder` holds it already (then it is extended). True when `holder` holds it afterwards.
    func acquire(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool

    /// Extends the lease `holder` holds to `duration` from now. False when it is not held by `holder` any
    /// more (it ran out, whether or not someone took it since, or was released): stop acting at once.
    func renew(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool

    /// Gives the lease up at once if `holder` holds it (so a standby need not wait for it to run out);
    /// does nothing otherwise.
    func release(name: String, holder: String) async throws(ServiceLeaseError)

    /// Who holds the lease `name` now, or nil when it is free (never taken, released or run out).
    func current(name: String) async throws(ServiceLeaseError) -> ServiceLease?
}

/// One held lease, as ``ServiceLeases/current(name:)`` reports it.
public struct ServiceLease: Sendable, Equatable {
    public var name: String
    public var holder: String
    /// When the holder took it (renewals keep this).
    public var acquiredAt: Date
    /// When it runs out unless renewed, by the backend's clock.
    public var expiresAt: Date

    public init(name: String, holder: String, acquiredAt: Date, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }
}

/// Holder names for ``ServiceLeases``.
public enum ServiceLeaseHolder {
    /// `PREFIX@HOST:PID:RANDOM`: readable in `callvault sweep`'s standby line and in the database, and
    /// unique per process even when a process id is reused or two containers share a host name.
    public static func unique(_ prefix: String) -> String {
        let host = ProcessInfo.processInfo.hostName
        let random = String(UInt32.random(in: .min ... .max), radix: 36)
        return "\(prefix)@\(host):\(ProcessInfo.processInfo.processIdentifier):\(random)"
    }

    /// Whether `holder` (``unique(_:)``: `PREFIX@HOST:PID:RANDOM`) names a process of this host that no
    /// longer exists (killed, crashed): its lease may be taken over at once instead of waited out. A
    /// reused process id only makes this say "alive": never a live holder taken for dead.
    public static func isDeadProcessOnThisHost(_ holder: String) -> Bool {
        guard let at = holder.lastIndex(of: "@") else { return false }
        let parts = holder[holder.index(after: at)...].split(separator: ":")
        guard parts.count == 3, String(parts[0]) == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]),
            pid > 0, pid != ProcessInfo.processInfo.processIdentifier
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// The service leases kept in `catalog`'s own database: the `service_leases` table of the SQLite catalog
/// (migration v6) or of the PostgreSQL database (schema version 5).
///
/// A function rather than a ``CatalogStore`` requirement, so the catalog backends need not change for it.
/// A catalog of another type (a test double) gets leases that refuse every operation with `unsupported`.
public func serviceLeases(for catalog: any CatalogStore) -> any ServiceLeases {
    switch catalog {
    case let catalog as Catalog: SQLiteServiceLeases(catalog: catalog)
    case let catalog as PostgresCatalog: PostgresServiceLeases(pool: catalog.pool)
    default: UnsupportedServiceLeases(location: catalog.location, type: String(describing: type(of: catalog)))
    }
}

/// Why a lease operation failed, with what to do. Messages name the lease, its holder and the database
/// (never a password).
public struct ServiceLeaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The database cannot be reached or did not answer in time: whether the lease is held is unknown.
        case unavailable
        /// A malformed argument: an empty or overlong name or holder, a duration under a millisecond.
        case invalidArgument
        /// The database refused or failed the operation.
        case databaseFailure
        /// This kind of catalog keeps no leases.
        case unsupported
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The same failure reported by the PostgreSQL store's shared pool (which speaks ``JobQueueError``).
    init(_ error: JobQueueError) {
        self.init(error.code == .unavailable || error.code == .schemaTooNew ? .unavailable : .databaseFailure, error.message)
    }

    /// The same failure reported by the SQLite catalog.
    init(_ error: CatalogError) {
        self.init(error.code == .unavailable ? .unavailable : .databaseFailure, error.message)
    }
}

/// Argument checks both lease backends make, so they refuse the same calls alike.
enum ServiceLeaseArguments {
    static func check(name: String, holder: String? = nil, duration: Duration? = nil) throws(ServiceLeaseError) {
        guard (1...100).contains(name.utf8.count) else {
            throw ServiceLeaseError(.invalidArgument, "a lease name must have 1 to 100 bytes")
        }
        if let holder, !(1...200).contains(holder.utf8.count) {
            throw ServiceLeaseError(.invalidArgument, "a lease holder must have 1 to 200 bytes")
        }
        if let duration, duration < .milliseconds(1) {
            throw ServiceLeaseError(.invalidArgument, "a lease must last at least a millisecond, not \(duration)")
        }
    }

    /// A duration as seconds with millisecond precision (what both tables keep).
    static func seconds(_ duration: Duration) -> Double {
        let components = duration.components
        return (Double(components.seconds) * 1000 + Double(components.attoseconds / 1_000_000_000_000_000)) / 1000
    }
}

/// The leases of a catalog type that keeps none: every operation says so.
struct UnsupportedServiceLeases: ServiceLeases {
    let location: String
    let type: String

    private var error: ServiceLeaseError {
        ServiceLeaseError(
            .unsupported,
            "the catalog at \(location) (\(type)) keeps no service leases: use the SQLite or PostgreSQL catalog")
    }

    func acquire(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        throw error
    }

    func renew(name: String, holder: String, for duration: Duration) async throws(ServiceLeaseError) -> Bool {
        throw error
    }

    func release(name: String, holder: String) async throws(ServiceLeaseError) { throw error }

    func current(name: String) async throws(ServiceLeaseError) -> ServiceLease? { throw error }
}
