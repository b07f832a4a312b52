import ArgumentParser
import CallVaultStore
import Foundation
import Logging

/// The data directory option of the catalog commands: `--data DIR`, else `CALLVAULT_DATA`, else
/// `./callvault-data` (CLI.md) — the same resolution as ``DataOptions``.
struct CatalogOptions: ParsableArguments {
    @Option(
        name: .customLong("data"),
        help: ArgumentHelp(
            "The data directory (root key, catalog, key store, sealed files).",
            discussion: "Defaults to $CALLVAULT_DATA, else ./callvault-data.",
            valueName: "DIR"
        )
    )
    var data: String?

    /// The directory to use, after the environment and the default.
    var directory: String {
        if let data, !data.isEmpty { return data }
        if let fromEnvironment = ProcessInfo.processInfo.environment["CALLVAULT_DATA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "./callvault-data"
    }

    /// Opens the catalog of an initialised data directory. A directory without a root key was never
    /// set up: refuse, instead of creating a catalog no key store goes with.
    func openCatalog() throws(CatalogError) -> Catalog {
        let layout = DataDirectory(path: directory)
        guard FileManager.default.fileExists(atPath: layout.rootKeyPath) else {
            throw CatalogError(.unavailable, "\(directory) is not a CallVault data directory (no root key); run `callvault init` first")
        }
        return try Catalog(path: layout.catalogPath)
    }

    /// Opens the key store of the data directory.
    func openKeyStore() throws(KeyStoreError) -> KeyStore {
        var logger = Logger(label: "callvault.cli")
        logger.logLevel = .warning
        return try KeyStore(dataDirectory: DataDirectory(path: directory), logger: logger)
    }
}
