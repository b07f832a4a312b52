import ArgumentParser
import CallVaultKeyProviders
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `callvault init`: creates the data directory, its root key and its key store. Idempotent.
///
/// Running it again reports what already exists and changes nothing; an existing root key is never
/// overwritten (a new one would make every tenant key unreadable), and an existing one that is not
/// private (mode, owner, symlink, size) is refused rather than silently fixed.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the data directory: root key (mode 0600), key store, recordings folder.",
        discussion: """
            Idempotent: existing parts are checked and kept; the root key is never overwritten.
            Back up DIR/root.key somewhere safe and separate: without it nothing in DIR can be read.

            --key-provider pkcs11|transit keeps the day keys that shredding destroys in an HSM token or a
            Vault/OpenBao Transit engine: init opens the provider to check it works, then writes
            DIR/key-provider.json (mode 0600, no secret), which every command reads. The PIN comes from
            CALLVAULT_PKCS11_PIN or --pkcs11-pin-file, the token from CALLVAULT_TRANSIT_TOKEN or
            --transit-token-file (files mode 0600). A directory's provider cannot be changed by init.
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var keyProviderOptions: KeyProviderOptions

    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    /// What `init` found and made.
    struct Report: Codable, Equatable {
        var dataDirectory: String
        var rootKey: String
        var keyStore: String
        var recordings: String
        /// The key provider's kind (`local`, `pkcs11`, `transit`) and the file that names it.
        var keyProvider: String
        var keyProviderFile: String
        /// Which parts this run created (false: it was already there and was checked).
        var created: Created

        struct Created: Codable, Equatable {
            var dataDirectory: Bool
            var rootKey: Bool
            var keyStore: Bool
        }
    }

    /// Creates (or checks) everything under `directory`; the testable core of the command.
    ///
    /// With a provider, it is opened (and for Transit its mount verified) before anything is written,
    /// so a provider that does not work leaves no half-made directory behind. A directory that already
    /// has another provider (or keys made under `local`) is refused: that change is `keys migrate`.
    static func initialize(
        _ directory: DataDirectory, keyProvider requested: KeyProviderSettings = .local, logger: Logger
    ) throws -> Report {
        let existing = try existingProvider(directory)
        if let existing, !existing.namesSameKeys(as: requested) {
            throw CLIError.failure(
                "\(directory.path) already uses the key provider \(existing.summary); init cannot change it to "
                    + requested.summary,
                hint: "move a local data directory into a provider with `callvault keys migrate --to KIND` (same options as init)")
        }
        let provider: (any KeyProvider)?
        do { provider = try requested.open() } catch let error as KeyProviderSettings.SecretError {
            throw CLIError.usage(error.message, hint: "see `callvault help init`")
        }
        defer { (provider as? TransitKeyProvider)?.shutdown() }

        let madeDirectory = try directory.create()
        let madeRootKey = try FileRootKey(path: directory.rootKeyPath).create()
        if try KeyProviderSettings.read(directory) != requested { try requested.write(directory) }
        let keyStoreExisted = FileManager.default.fileExists(atPath: directory.keyStorePath)
        _ = try KeyStore(dataDirectory: directory, logger: logger, dayKeyProvider: provider)
        // The catalog too (CLI.md: init creates root key, catalog and key store), migrated to the current schema.
        do {
            _ = try Catalog(path: directory.catalogPath)
        } catch {
            throw KeyStoreError(.ioFailed, "cannot create the catalog \(directory.catalogPath): \(error.message)")
        }
        return Report(
            dataDirectory: directory.path,
            rootKey: directory.rootKeyPath,
            keyStore: directory.keyStorePath,
            recordings: directory.recordingsPath,
            keyProvider: requested.kind.rawValue,
            keyProviderFile: KeyProviderSettings.path(in: directory),
            created: .init(dataDirectory: madeDirectory, rootKey: madeRootKey, keyStore: !keyStoreExisted)
        )
    }

    /// The provider a directory already uses: its `key-provider.json`, else `local` when it has a key
    /// store (a directory made before providers), else nil (a new directory).
    static func existingProvider(_ directory: DataDirectory) throws -> KeyProviderSettings? {
        guard FileManager.default.fileExists(atPath: directory.path) else { return nil }
        try directory.checkPrivate()
        if let settings = try KeyProviderSettings.read(directory) { return settings }
        return FileManager.default.fileExists(atPath: directory.keyStorePath) ? .local : nil
    }

    func run() async throws {
        var logger = Logger(label: "callvault.init")
        logger.logLevel = .warning
        let report = try Self.initialize(
            dataOptions.directory, keyProvider: keyProviderOptions.settings(), logger: logger)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        func line(_ made: Bool, _ what: String) -> String { "\(made ? "created" : "exists ") \(what)" }
        print(line(report.created.dataDirectory, "\(report.dataDirectory) (mode 0700)"))
        print(line(report.created.rootKey, "\(report.rootKey) (mode 0600, 32 bytes)"))
        print(line(report.created.keyStore, "\(report.keyStore) (key store, secure_delete on)"))
        print("ready   \(dataOptions.directory.catalogPath) (catalog: tenants, calls, recordings, jobs, audit log)")
        print("ready   \(report.keyProviderFile) (key provider: \(report.keyProvider))")
        if report.created.rootKey {
            print("Back up \(report.rootKey) somewhere safe and separate: without it nothing here can be read.")
        }
    }
}
