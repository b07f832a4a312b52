import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// Where a data directory's catalog, job queue and audit log live: the embedded SQLite file
/// (`DIR/catalog.sqlite`, the default) or a shared PostgreSQL database named in `DIR/database.json`.
///
/// `callvault init --database postgres://USER@HOST:PORT/DB` writes the file (mode 0600; the URL and the
/// *path* of a password file, never a password). `CALLVAULT_DATABASE_URL` names a database for one
/// process instead (a container's environment). The password comes from `PGPASSWORD`, else from the
/// password file (`--database-password-file`, or `CALLVAULT_DATABASE_PASSWORD_FILE`), else none (a
/// server that trusts this host or uses certificates).
struct DatabaseSettings: Codable, Equatable, Sendable {
    static let fileName = "database.json"
    static let urlVariable = "CALLVAULT_DATABASE_URL"
    static let passwordVariable = "PGPASSWORD"
    static let passwordFileVariable = "CALLVAULT_DATABASE_PASSWORD_FILE"

    var version = 1
    /// `postgres://USER@HOST:PORT/DB[?sslmode=…]`, without a password.
    var url: String
    /// A file holding the password (mode 0600), read at each start.
    var passwordFile: String?
    /// `postgres` when the directory's key store is in the database too (the `key_*` tables), set by
    /// `init --database` for a new directory whose key provider is `pkcs11` or `transit`; nil: the key
    /// store is `DIR/keys.sqlite` (a `local` provider, or a directory made before this release).
    var keys: String?

    static let keysInDatabase = "postgres"

    /// Whether the directory's key store is in this database.
    var keysInDatabase: Bool { keys == Self.keysInDatabase }

    static func path(in directory: DataDirectory) -> String { directory.path + "/" + fileName }

    /// The database a command on `directory` uses: the environment's, else the directory's file, else nil
    /// (the embedded SQLite catalog).
    static func resolve(
        _ directory: DataDirectory, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> DatabaseSettings? {
        if let url = environment[urlVariable], !url.isEmpty {
            let file = environment[passwordFileVariable].flatMap { $0.isEmpty ? nil : $0 }
            // Where the keys are is the directory's fact, whichever URL reaches the database.
            return DatabaseSettings(url: url, passwordFile: file, keys: try read(directory)?.keys)
        }
        return try read(directory)
    }

    /// The store settings: URL parsed, password read (from `PGPASSWORD` or the file).
    func storeSettings(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> PostgresStoreSettings
    {
        var password: String?
        if let fromEnvironment = environment[Self.passwordVariable], !fromEnvironment.isEmpty {
            password = fromEnvironment
        } else if let passwordFile {
            do {
                password = try PrivateFile.readSecret(passwordFile, what: "database password file")
            } catch let error as KeyProviderSettings.SecretError {
                throw CLIError.failure(error.message, hint: "or set \(Self.passwordVariable)")
            }
        }
        do {
            return try PostgresStoreSettings(url: url, password: password)
        } catch {
            throw CLIError.usage(error.message, hint: "see `callvault help init`")
        }
    }

    /// Refuses a command that works only on the embedded SQLite catalog when the directory's catalog is
    /// in PostgreSQL (its `database.json`, or `CALLVAULT_DATABASE_URL`): it would read and write
    /// `catalog.sqlite` while every other command uses the database.
    static func requireEmbedded(_ directory: DataDirectory, command: String) throws {
        guard let database = try resolve(directory) else { return }
        throw CLIError.failure(
            "`callvault \(command)` does not run on a PostgreSQL catalog yet, and this data directory's catalog is "
                + "in \(database.url)",
            hint: "see docs/store-postgres.md for the commands that do")
    }

    // MARK: The file

    /// The directory's settings, or nil when it has no `database.json`. The file must be a regular file
    /// owned by this user and private to it (``PrivateFile/readSettings(_:writtenBy:)``).
    static func read(_ directory: DataDirectory) throws -> DatabaseSettings? {
        let path = path(in: directory)
        guard let data = try PrivateFile.readSettings(path, writtenBy: "callvault init --database") else { return nil }
        guard let settings = try? JSONDecoder().decode(DatabaseSettings.self, from: data) else {
            throw CLIError.failure("\(path) is not a database file CallVault can read", hint: "restore it from your configuration")
        }
        guard settings.version == 1 else {
            throw CLIError.failure("\(path) has version \(settings.version); this callvault reads version 1")
        }
        return settings
    }

    /// Writes the file with mode 0600, atomically.
    func write(_ directory: DataDirectory) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try PrivateFile.writeAtomically(
            Array(try encoder.encode(self)) + [0x0A], to: Self.path(in: directory), in: directory.path)
    }

    /// Opens the PostgreSQL catalog (and its queue and audit log on one pool), migrating the schema; a
    /// database that cannot be reached or is newer than this binary fails with the reason (exit 1).
    func open(logger: Logger) async throws -> PostgresCatalog {
        let settings = try storeSettings()
        do {
            return try await PostgresCatalog.open(settings, logger: logger)
        } catch {
            throw CLIError.failure(
                error.message,
                hint: error.code == .unavailable
                    ? "check the database URL (\(Self.path(in: DataDirectory(path: "DIR"))) or \(Self.urlVariable)), the password and that PostgreSQL is running"
                    : "see `callvault help init`")
        }
    }
}
