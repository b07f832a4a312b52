import CallVaultRetention
import CallVaultStore
import Foundation
import Logging

/// The catalog and key store of an initialised data directory, as the retention commands need them.
struct RetentionStores {
    let directory: DataDirectory
    let catalog: Catalog
    let keyStore: KeyStore

    /// Opens both stores; a directory without a root key fails with a hint to run `callvault init`.
    init(_ options: DataOptions, logger: Logger) throws {
        directory = options.directory
        try DatabaseSettings.requireEmbedded(directory, command: DataOptions.commandName)
        keyStore = try options.openKeyStore(logger: logger)
        do {
            catalog = try Catalog(path: directory.catalogPath)
        } catch {
            throw CLIError.failure(error.message, hint: "check --data and that `callvault init` ran for it")
        }
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
