import GRDB

/// Holds a catalog's write lock from a second SQLite connection (`BEGIN IMMEDIATE`), as another
/// process in the middle of a write would, until released: the catalog's own writes then fail once
/// their busy timeout runs out.
final class CatalogWriteLock {
    private let queue: DatabaseQueue
    private var held = true

    init(path: String) throws {
        var configuration = GRDB.Configuration()
        configuration.allowsUnsafeTransactions = true
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    func release() throws {
        guard held else { return }
        held = false
        try queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }

    deinit { try? release() }
}
