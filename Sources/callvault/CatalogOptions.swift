import ArgumentParser
import CallVaultStore
import Foundation

/// The data directory option of the catalog commands: `--data DIR`, else `CALLVAULT_DATA`, else
/// `./callvault-data` (CLI.md). To be unified with the key store's `DataOptions` on integration.
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

    /// Opens the catalog, creating the directory and the database if they are missing.
    func openCatalog() throws(CatalogError) -> Catalog {
        try Catalog(directory: directory)
    }
}
