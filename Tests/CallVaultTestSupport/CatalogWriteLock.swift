import GRDB

/// Holds a catalog's SQLite write lock from a second connection (`BEGIN IMMEDIATE`), as another
/// process, a stalled disk or a failover would, until released: the catalog's own writes then fail
/// with `database is locked` once their busy timeout runs out, while reads go on (WAL).
public final class CatalogWriteLock {
    private let queue: DatabaseQueue
    private var held = true

    /// Takes the lock, waiting up to 5 s for a write already under way (a flush's progress report).
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the transaction is held across accesses on purpose
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    public func release() throws {
        guard held else { return }
        held = false
        try queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }

    deinit { try? release() }
}
