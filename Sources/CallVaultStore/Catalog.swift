public import CallVaultModel
public import Foundation
internal import GRDB

/// The SQLite catalog of one data directory: tenants, calls, consent events, recordings, jobs,
/// transcripts and the audit log, in `<data>/catalog.sqlite`.
///
/// A `DatabasePool` in WAL mode: readers never wait for the writer (listings stay fast while calls
/// are recorded) and writes are serialized, which the audit chain relies on. Foreign keys are on.
/// Opening migrates the schema to the newest version this build knows, creating the file if needed.
public final class Catalog: Sendable {
    /// The catalog's file name inside a data directory.
    public static let fileName = "catalog.sqlite"

    /// The database. Internal: GRDB stays inside the store, and callers use the typed methods.
    let pool: DatabasePool
    /// The path of the SQLite file.
    public let path: String
    /// The hash-chained audit log kept in this catalog.
    public var auditLog: AuditLog { AuditLog(pool: pool) }

    /// How long a write waits for another connection's write lock before it fails (`database is locked`).
    public static let defaultBusyTimeout: TimeInterval = 10

    /// Opens (creating if missing) the catalog in a data directory.
    ///
    /// - Parameters:
    ///   - directory: the data directory; created with mode 0700 if it does not exist.
    ///   - busyTimeout: how long a write waits for another process's write lock before it fails.
    public convenience init(directory: String, busyTimeout: TimeInterval = Catalog.defaultBusyTimeout)
        throws(CatalogError)
    {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CatalogError(.unavailable, "\(directory) exists but is not a directory")
            }
        } else {
            do {
                try manager.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw CatalogError(.unavailable, "cannot create the data directory \(directory): \(error)")
            }
        }
        try self.init(path: (directory as NSString).appendingPathComponent(Self.fileName), busyTimeout: busyTimeout)
    }

    /// Opens (creating if missing) the catalog file at `path` and migrates it.
    public init(path: String, busyTimeout: TimeInterval = Catalog.defaultBusyTimeout) throws(CatalogError) {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "callvault.catalog"
        try Self.makePrivateFiles(path)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw CatalogError(.unavailable, "cannot open the catalog \(path): \(Self.describe(error))")
        }
        self.path = path
    }

    /// Creates the database file with mode 0600 before SQLite opens it (SQLite gives its WAL and
    /// shared-memory files the database's mode), and tightens files left looser by an older build.
    /// The catalog holds token hashes and phone-hash keys: no one but the service user reads it.
    private static func makePrivateFiles(_ path: String) throws(CatalogError) {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CatalogError(.unavailable, "cannot create the catalog \(path): check the directory's permissions")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
            do {
                try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            } catch {
                throw CatalogError(.unavailable, "cannot make \(file) private (mode 0600): \(error)")
            }
        }
    }

    /// The migrations already applied to this catalog, oldest first.
    public func appliedMigrations() throws(CatalogError) -> [String] {
        try read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// Runs `body` in a read transaction, mapping SQLite errors to ``CatalogError``.
    func read<T>(_ body: (Database) throws -> T) throws(CatalogError) -> T {
        do {
            return try pool.read(body)
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.databaseFailure, "catalog read failed: \(Self.describe(error))")
        }
    }

    /// Runs `body` in a write transaction (rolled back if it throws), mapping errors.
    func write<T>(_ body: (Database) throws -> T) throws(CatalogError) -> T {
        do {
            return try pool.write(body)
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.databaseFailure, "catalog write failed: \(Self.describe(error))")
        }
    }

    /// A short description of an error that names SQLite's reason but no bound values
    /// (GRDB's full description may include the SQL arguments, which can be secret).
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }

    /// A fresh random identifier for a row (lowercase UUID).
    static func newID() -> String {
        UUID().uuidString.lowercased()
    }
}
