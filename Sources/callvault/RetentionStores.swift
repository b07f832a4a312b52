import CallVaultModel
import CallVaultRetention
import CallVaultStore
import Foundation
import Logging

/// The catalog and key store of an initialised data directory, as the retention, transcription and
/// key commands need them: the catalog where the directory keeps it (SQLite or PostgreSQL, see
/// ``DataOptions/openStore(logger:)``), the key store in the directory.
struct RetentionStores {
    let directory: DataDirectory
    let catalog: any CatalogStore
    let keyStore: KeyStore

    /// Opens both stores; a directory without a root key fails with a hint to run `callvault init`.
    static func open(_ options: DataOptions, logger: Logger) async throws -> RetentionStores {
        let keyStore = try await options.openKeyStore(logger: logger)
        let catalog: any CatalogStore
        do {
            catalog = try await options.openStore(logger: logger)
        } catch let error as CatalogError {
            throw CLIError.failure(error.message, hint: "check --data and that `callvault init` ran for it")
        }
        return RetentionStores(directory: try options.directory, catalog: catalog, keyStore: keyStore)
    }

    /// The stores of a directory whose catalog is the embedded SQLite file (the recording tools).
    static func openEmbedded(_ options: DataOptions, logger: Logger) throws -> (RetentionStores, Catalog) {
        let catalog = try options.openCatalog()  // refuses a directory on PostgreSQL first
        let keyStore = try DataDirectoryKeys.openEmbeddedKeyStore(try options.directory, logger: logger)
        return (RetentionStores(directory: try options.directory, catalog: catalog, keyStore: keyStore), catalog)
    }
}

extension CLIError {
    /// A retention error as a CLI failure (exit 1), with a hint by its code.
    init(_ error: RetentionError) {
        let hint: String? =
            switch error.code {
            case .invalidState: "list recordings with `callvault recordings list`"
            case .fileDeletionFailed: "check the file's directory is writable by this user; the next sweep retries"
            case .catalogFailed, .keyStoreFailed: "check the disk and the data directory's permissions, then retry"
            case .notFound: "check --tenant, and give the number as the telephony provider sent it, e.g. +442079460000"
            case .invalidArgument: "see `callvault help subject`"
            case .outputExists: "choose another --out, or pass --force to replace it"
            case .outputFailed: "check the --out directory exists, is writable and has room; nothing was left behind"
            case .interrupted: "what was done stays done; the next sweep (whichever sweeper holds the lease) finishes it"
            }
        self.init(what: error.message, hint: hint, exitCode: 1)
    }
}
