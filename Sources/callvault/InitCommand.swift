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

            --database postgres://USER@HOST:PORT/DB[?sslmode=MODE] keeps the catalog, job queue and audit
            log in a shared PostgreSQL database instead of DIR/catalog.sqlite: init connects, brings the
            schema to this release (once, whichever node is first) and writes DIR/database.json (mode
            0600, no secret), which every command reads; CALLVAULT_DATABASE_URL overrides it for one
            process. The password comes from PGPASSWORD or --database-password-file (mode 0600), never
            from the URL. A directory that keeps its catalog in catalog.sqlite cannot be moved by init.

            --objects DIR keeps the sealed recordings and transcripts in DIR (an absolute path, created
            mode 0700 if missing, e.g. an NFS mount several nodes share) instead of the data directory:
            init writes DIR/objects.json (mode 0600), which every command reads. A directory that has
            sealed files already, or other objects, cannot be moved by init.
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var keyProviderOptions: KeyProviderOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep the catalog, queue and audit log in this PostgreSQL database (no password in the URL).",
            valueName: "postgres://USER@HOST:PORT/DB"))
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp("A file (mode 0600) holding the database password (or set PGPASSWORD).", valueName: "FILE"))
    var databasePasswordFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep sealed recordings and transcripts in this directory (absolute path; e.g. a shared mount).",
            valueName: "DIR"))
    var objects: String?

    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    /// What `init` found and made.
    struct Report: Codable, Equatable {
        var dataDirectory: String
        var rootKey: String
        var keyStore: String
        var recordings: String
        /// Where sealed recordings and transcripts live: the data directory, or `--objects DIR`.
        var objects: String
        /// The key provider's kind (`local`, `pkcs11`, `transit`) and the file that names it.
        var keyProvider: String
        var keyProviderFile: String
        /// Where the catalog lives: `DIR/catalog.sqlite`, or the PostgreSQL URL (no password).
        var catalog: String
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
        _ directory: DataDirectory, keyProvider requested: KeyProviderSettings = .local,
        database: DatabaseSettings? = nil, logger: Logger
    ) throws -> Report {
        let database = try checkDatabase(database, for: directory)
        let objects = try checkObjects(directory)
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
        if let objects, try ObjectsSettings.read(dataDirectory: directory.path) != objects {
            try objects.write(dataDirectory: directory.path)
        }
        if try KeyProviderSettings.read(directory) != requested { try requested.write(directory) }
        let keyStoreExisted = FileManager.default.fileExists(atPath: directory.keyStorePath)
        // The key store: in the database (its `key_*` tables, migrated by `run` with the catalog's schema)
        // for a new directory on PostgreSQL whose provider holds the keys shredding destroys; else
        // keys.sqlite (a `local` provider keeps them there: a shared database must not hold them).
        let placed = database.map { settings -> DatabaseSettings in
            var settings = settings
            settings.keys = keysInDatabase(settings, directory: directory, provider: requested, keyStoreExisted: keyStoreExisted)
            return settings
        }
        if placed?.keysInDatabase != true {
            _ = try KeyStore(dataDirectory: directory, logger: logger, dayKeyProvider: provider)
        }
        // The catalog too (CLI.md: init creates root key, catalog and key store), migrated to the current
        // schema: the SQLite file, unless the directory's catalog is in PostgreSQL (migrated by `run`).
        if let placed {
            if try DatabaseSettings.read(directory) != placed { try placed.write(directory) }
        } else {
            do {
                _ = try Catalog(path: directory.catalogPath)
            } catch {
                throw KeyStoreError(.ioFailed, "cannot create the catalog \(directory.catalogPath): \(error.message)")
            }
        }
        let databaseURL = database.map { (try? $0.storeSettings().url) ?? $0.url }
        return Report(
            dataDirectory: directory.path,
            rootKey: directory.rootKeyPath,
            keyStore: placed?.keysInDatabase == true ? "\(databaseURL ?? "") (key_* tables)" : directory.keyStorePath,
            recordings: directory.recordingsPath,
            objects: directory.objectsPath,
            keyProvider: requested.kind.rawValue,
            keyProviderFile: KeyProviderSettings.path(in: directory),
            catalog: database.map { (try? $0.storeSettings().url) ?? $0.url } ?? directory.catalogPath,
            created: .init(dataDirectory: madeDirectory, rootKey: madeRootKey, keyStore: !keyStoreExisted)
        )
    }

    /// Where a directory on `database` keeps its keys: `postgres` (the database) when its provider is
    /// `pkcs11` or `transit` and it has no keys.sqlite yet; an existing directory keeps what it has (its
    /// file's choice, else keys.sqlite: moving keys is `migrate-store`'s, not init's); `local` keeps
    /// keys.sqlite, whose root-key-wrapped day keys must not be in a shared database.
    static func keysInDatabase(
        _ database: DatabaseSettings, directory: DataDirectory, provider: KeyProviderSettings, keyStoreExisted: Bool
    ) -> String? {
        if let existing = try? DatabaseSettings.read(directory) { return existing.keys }
        guard !keyStoreExisted, provider.kind != .local else { return nil }
        return DatabaseSettings.keysInDatabase
    }

    /// The database the directory will use: the one asked for, else the one it has (nil: SQLite). A
    /// directory whose catalog is in `catalog.sqlite` is not moved to PostgreSQL, and one on PostgreSQL
    /// is not pointed at another database, by init: both would hide every call recorded so far.
    static func checkDatabase(_ requested: DatabaseSettings?, for directory: DataDirectory) throws -> DatabaseSettings? {
        let existing = try DatabaseSettings.read(directory)
        guard let requested else { return existing }
        if let existing {
            let same =
                (try? existing.storeSettings(environment: [:]).description)
                == (try? requested.storeSettings(environment: [:]).description)
            guard same else {
                throw CLIError.failure(
                    "\(directory.path) keeps its catalog in \(existing.url); init cannot point it at \(requested.url)",
                    hint: "if the same database moved, edit \(DatabaseSettings.path(in: directory))")
            }
            return requested
        }
        if FileManager.default.fileExists(atPath: directory.catalogPath) {
            throw CLIError.failure(
                "\(directory.path) keeps its catalog in \(directory.catalogPath); init cannot move it to PostgreSQL",
                hint: "initialise a new data directory with --database, or keep this one on SQLite")
        }
        return requested
    }

    /// The objects file to write for `directory` (nil: it keeps its sealed files itself). One that names
    /// other objects already, or keeps sealed files of its own, is not moved by init: the catalog's paths
    /// would point at files that are not there.
    static func checkObjects(_ directory: DataDirectory) throws -> ObjectsSettings? {
        let existing = try ObjectsSettings.read(dataDirectory: directory.path)
        guard directory.objectsPath != directory.path else {
            if let existing {
                throw CLIError.failure(
                    "\(directory.path) keeps its sealed files in \(existing.directory); init cannot move them back",
                    hint: "give --objects \(existing.directory), or leave it out")
            }
            return nil
        }
        let requested = ObjectsSettings(directory: directory.objectsPath)
        if let existing {
            guard existing == requested else {
                throw CLIError.failure(
                    "\(directory.path) keeps its sealed files in \(existing.directory); init cannot point it at \(requested.directory)",
                    hint: "if the same directory moved, edit \(ObjectsSettings.path(in: directory.path))")
            }
            return requested
        }
        let own = DataDirectory(path: directory.path)
        for folder in [own.recordingsPath, own.transcriptsPath] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            if !entries.isEmpty {
                throw CLIError.failure(
                    "\(directory.path) has sealed files in \(folder) already; init cannot move them to \(requested.directory)",
                    hint: "initialise a new data directory with --objects")
            }
        }
        return requested
    }

    /// The provider a directory already uses: its `key-provider.json`, else `local` when it has a key
    /// store (a directory made before providers), else nil (a new directory).
    static func existingProvider(_ directory: DataDirectory) throws -> KeyProviderSettings? {
        guard FileManager.default.fileExists(atPath: directory.path) else { return nil }
        try directory.checkPrivate()
        if let settings = try KeyProviderSettings.read(directory) { return settings }
        return FileManager.default.fileExists(atPath: directory.keyStorePath) ? .local : nil
    }

    func validate() throws {
        if databasePasswordFile != nil && database == nil {
            throw ValidationError("--database-password-file goes with --database")
        }
        if let database {
            do { _ = try PostgresStoreSettings(url: database, password: nil) } catch {
                throw ValidationError(error.message)
            }
        }
        if let objects, !objects.hasPrefix("/") {
            throw ValidationError("--objects needs an absolute path (every node names it the same way), got \(objects)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "callvault.init")
        logger.logLevel = .warning
        var database: DatabaseSettings?
        if let url = self.database {
            let requested = DatabaseSettings(url: url, passwordFile: databasePasswordFile)
            // Checked, connected and migrated before anything is written: a database that cannot be
            // reached leaves no half-made directory pointing at it.
            _ = try Self.checkDatabase(requested, for: dataOptions.directory)
            let catalog = try await requested.open(logger: logger)
            await catalog.close()
            database = requested
        }
        let layout = DataDirectory(
            path: dataOptions.resolvedPath(),
            objects: try objects ?? ObjectsSettings.read(dataDirectory: dataOptions.resolvedPath())?.directory)
        let report = try Self.initialize(
            layout, keyProvider: keyProviderOptions.settings(), database: database, logger: logger)
        if report.keyStore.hasPrefix("postgres://") {
            // Opens the key store in the database once: its root-key check is made (first machine) or
            // verified (another machine must bring the same root.key), and the provider answers.
            let keyStore = try await DataDirectoryKeys.openKeyStore(layout, logger: logger)
            keyStore.close()
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        func line(_ made: Bool, _ what: String) -> String { "\(made ? "created" : "exists ") \(what)" }
        print(line(report.created.dataDirectory, "\(report.dataDirectory) (mode 0700)"))
        print(line(report.created.rootKey, "\(report.rootKey) (mode 0600, 32 bytes)"))
        if report.keyStore.hasPrefix("postgres://") {
            print("ready   \(report.keyStore) (key store; the day and hold keys are in the \(report.keyProvider) provider)")
        } else {
            print(line(report.created.keyStore, "\(report.keyStore) (key store, secure_delete on)"))
        }
        print("ready   \(report.catalog) (catalog: tenants, calls, recordings, jobs, audit log)")
        if report.objects != report.dataDirectory {
            print("ready   \(report.objects) (sealed recordings and transcripts; mode 0700)")
        }
        print("ready   \(report.keyProviderFile) (key provider: \(report.keyProvider))")
        if report.created.rootKey {
            print("Back up \(report.rootKey) somewhere safe and separate: without it nothing here can be read.")
        }
    }
}
