import GRDB

/// Holds a catalog's SQLite write lock from a second connection (`BEGIN IMMEDIATE`), as another process,
/// a slow disk or a failover would: the catalog's own writes fail with `database is locked` once their
/// busy timeout runs out, while reads go on (WAL). Released by ``release()`` or on deinit.
final class CatalogWriteLock {
    private let queue: DatabaseQueue
    private var held = false

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.allowsUnsafeTransactions = true  // the transaction is held across accesses on purpose
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        held = true
    }

    func release() throws {
        guard held else { return }
        held = false
        try queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }

    deinit { try? release() }
}
