import ArgumentParser
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `--data DIR`, shared by every command that touches the data directory.
///
/// Resolution order: the flag, then `CALLVAULT_DATA`, then `./callvault-data` (CLI.md). An empty
/// variable counts as unset, so `CALLVAULT_DATA= callvault ...` does not mean the current directory.
struct DataOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The data directory: root key, catalog, key store and sealed files "
                + "(env CALLVAULT_DATA, default ./callvault-data).",
            valueName: "DIR"
        )
    )
    var data: String?

    /// The default when neither the flag nor the environment names a directory.
    static let defaultPath = "./callvault-data"

    /// The directory path after applying the environment and the default.
    func resolvedPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let data, !data.isEmpty { return data }
        if let fromEnvironment = environment["CALLVAULT_DATA"], !fromEnvironment.isEmpty { return fromEnvironment }
        return Self.defaultPath
    }

    /// The data directory layout for the resolved path, with its objects directory (`objects.json`,
    /// ``ObjectsSettings``) when it has one.
    var directory: DataDirectory {
        get throws {
            let path = resolvedPath()
            return DataDirectory(path: path, objects: try ObjectsSettings.read(dataDirectory: path)?.directory)
        }
    }

    /// Opens the catalog of an initialised data directory (`DIR/catalog.sqlite`).
    ///
    /// A directory without a root key was never set up by `callvault init`: that is refused with a
    /// `CLIError` naming the fix, instead of creating a catalog that no key store goes with.
    func openCatalog() throws -> Catalog {
        let layout = try directory
        guard FileManager.default.fileExists(atPath: layout.rootKeyPath) else {
            throw CLIError.failure(
                "\(layout.path) is not an initialised CallVault data directory (no root key)",
                hint: "run `callvault init` first")
        }
        try DatabaseSettings.requireEmbedded(layout, command: Self.commandName)
        return try Catalog(path: layout.catalogPath)
    }

    /// Opens the catalog of an initialised data directory where it lives: the PostgreSQL database its
    /// `database.json` (or `CALLVAULT_DATABASE_URL`) names, else `DIR/catalog.sqlite`. Close it with
    /// `close()` when done, or use ``withStore(logger:_:)``.
    func openStore(logger: Logger? = nil) async throws -> any CatalogStore {
        let layout = try directory
        guard FileManager.default.fileExists(atPath: layout.rootKeyPath) else {
            throw CLIError.failure(
                "\(layout.path) is not an initialised CallVault data directory (no root key)",
                hint: "run `callvault init` first")
        }
        if let database = try DatabaseSettings.resolve(layout) {
            return try await database.open(logger: logger ?? Self.quietLogger)
        }
        return try Catalog(path: layout.catalogPath)
    }

    /// Runs `body` on the directory's catalog (``openStore(logger:)``) and closes it after, whether
    /// `body` threw or not.
    func withStore<T>(logger: Logger? = nil, _ body: (any CatalogStore) async throws -> T) async throws -> T {
        let catalog = try await openStore(logger: logger)
        do {
            let result = try await body(catalog)
            await catalog.close()
            return result
        } catch {
            await catalog.close()
            throw error
        }
    }

    /// The subcommand's name as typed (`verify`, `recordings export`), for messages.
    static var commandName: String {
        CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.prefix(2).joined(separator: " ")
    }

    /// Warnings and errors only: a command's own output is what the user reads.
    static var quietLogger: Logger {
        var logger = Logger(label: "callvault.cli")
        logger.logLevel = .warning
        return logger
    }

    /// Opens the key store of the data directory with its key provider (`key-provider.json`), through
    /// ``DataDirectoryKeys``: a directory that was not initialised, or a provider that cannot be opened,
    /// fails with a `CLIError` (exit 1).
    func openKeyStore(logger: Logger? = nil) async throws -> KeyStore {
        var fallback = Logger(label: "callvault.cli")
        fallback.logLevel = .warning
        return try await DataDirectoryKeys.openKeyStore(directory, logger: logger ?? fallback)
    }

    func validate() throws {
        if let data, data.isEmpty {
            throw ValidationError("--data needs a directory path")
        }
    }
}
