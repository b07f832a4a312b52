import ArgumentParser
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `callvault migrate-store --to postgres://…`: moves an embedded data directory's catalog (SQLite)
/// into a shared PostgreSQL database, so that more machines can use it.
///
/// Copies every table and the audit chain (``StoreMigration``), verifies row counts and the chain on
/// both sides, and only then writes `database.json`, from which moment every command uses the
/// database. `catalog.sqlite` is left as it was (a copy to keep or archive; nothing reads it after).
struct MigrateStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy this data directory's catalog, queue and audit log into PostgreSQL and switch to it.",
        discussion: """
            Stop `serve`, `transcribe --pending` and `sweep` on the directory first. Rows keep their ids;
            the audit chain is copied as it is and must verify with the same head hash. Resumable: run it
            again after an interruption and it copies what is missing. Only when every count matches and
            the chain verifies is DIR/database.json written (mode 0600, no secret). The password comes from
            PGPASSWORD or --database-password-file (mode 0600), as for `init --database`.
            """
    )

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: ArgumentHelp("The PostgreSQL database to move into.", valueName: "postgres://USER@HOST:PORT/DB"))
    var to: String

    @Option(
        name: .long,
        help: ArgumentHelp("A file (mode 0600) holding the database password (or set PGPASSWORD).", valueName: "FILE"))
    var databasePasswordFile: String?

    @Flag(help: "Print one JSON document.") var json = false

    func validate() throws {
        do { _ = try PostgresStoreSettings(url: to, password: nil) } catch { throw ValidationError(error.message) }
    }

    /// What `--json` prints: the catalog's copy, and the key store's when it moved too.
    struct Output: Encodable {
        var tables: [StoreMigration.TableReport]
        var auditEntries: Int
        var auditHeadHash: String
        var verified: Bool
        var mismatches: [String]
        /// The copy of keys.sqlite into the database (a `pkcs11` or `transit` directory); nil: the key
        /// store stays in keys.sqlite.
        var keys: KeyStoreMigration.Report?
    }

    func run() async throws {
        let directory = try options.directory
        let provider = try KeyProviderSettings.read(directory) ?? .local
        if let existing = try DatabaseSettings.read(directory) {
            // A directory whose catalog moved before its keys could: the keys alone, into the same database.
            let sameDatabase =
                (try? existing.storeSettings(environment: [:]).description)
                == (try? DatabaseSettings(url: to).storeSettings(environment: [:]).description)
            guard sameDatabase, !existing.keysInDatabase, provider.kind != .local else {
                throw CLIError.failure(
                    "\(directory.path) already keeps its catalog in \(existing.url)"
                        + (existing.keysInDatabase ? " and its keys" : ""),
                    hint: "nothing to migrate")
            }
            let keys = try await copyKeys(into: existing)
            try finish(Output(tables: [], auditEntries: 0, auditHeadHash: "", verified: true, mismatches: [], keys: keys), existing)
            return
        }
        let source = try options.openCatalog()
        let database = DatabaseSettings(url: to, passwordFile: databasePasswordFile)
        let target = try await database.open(logger: DataOptions.quietLogger)
        let report: StoreMigration.Report
        do {
            report = try await StoreMigration.copy(from: source, to: target) { table, rows in
                if !json, rows > 0, rows % 10_000 == 0 { print("copying \(table): \(rows) rows") }
            }
            await target.close()
        } catch {
            await target.close()
            throw CLIError.failure(error.message, hint: "fix the cause and run `callvault migrate-store` again: it resumes")
        }
        // The key store follows the catalog when the directory's keys that shredding destroys are in a
        // provider (never for `local`: see docs/store-postgres.md, "Key store").
        let keys = report.verified && provider.kind != .local ? try await copyKeys(into: database) : nil
        try finish(
            Output(
                tables: report.tables, auditEntries: report.auditEntries, auditHeadHash: report.auditHeadHash,
                verified: report.verified, mismatches: report.mismatches, keys: keys),
            database)
    }

    /// Copies keys.sqlite into `database`'s `key_*` tables (off the cooperative pool: both stores block).
    private func copyKeys(into database: DatabaseSettings) async throws -> KeyStoreMigration.Report {
        let directory = try options.directory
        let logger = DataOptions.quietLogger
        let local = try DataDirectoryKeys.openEmbeddedKeyStore(directory, logger: logger)
        let remote: KeyStore
        do {
            remote = try await KeyStore.open(
                postgres: try database.storeSettings(), rootKey: FileRootKey(path: directory.rootKeyPath), logger: logger,
                keyProviders: local.keyProviders)
        } catch let error as KeyStoreError {
            throw CLIError(error)
        }
        defer { remote.close() }
        let copied: Result<KeyStoreMigration.Report, KeyStoreError> = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { () throws(KeyStoreError) in try KeyStoreMigration.copy(from: local, to: remote) }) }
                .start()
        }
        do {
            return try copied.get()
        } catch {
            throw CLIError.failure(error.message, hint: "fix the cause and run `callvault migrate-store` again: it resumes")
        }
    }

    /// Writes `database.json` once everything verified (with `"keys": "postgres"` when the keys moved),
    /// and prints the outcome.
    private func finish(_ output: Output, _ database: DatabaseSettings) throws {
        let directory = try options.directory
        let verified = output.verified && output.keys?.verified != false
        if verified {
            var settings = database
            if output.keys != nil { settings.keys = DatabaseSettings.keysInDatabase }
            try settings.write(directory)
        }
        if json {
            try CatalogCommandSupport.printJSON(output)
        } else {
            if !output.tables.isEmpty {
                CatalogCommandSupport.printTable(
                    header: ["TABLE", "SQLITE", "COPIED", "POSTGRESQL"],
                    rows: output.tables.map { [$0.table, String($0.source), String($0.copied), String($0.target)] })
                print("audit chain: \(output.auditEntries) entries, head \(output.auditHeadHash)")
            }
            if let keys = output.keys {
                CatalogCommandSupport.printTable(
                    header: ["KEY TABLE", "KEYS.SQLITE", "COPIED", "POSTGRESQL"],
                    rows: keys.tables.map { [$0.table, String($0.source), String($0.copied), String($0.target)] })
            }
        }
        guard verified else {
            throw CLIError.failure(
                "the copy in \(database.url) does not match: "
                    + (output.mismatches + (output.keys?.mismatches ?? [])).joined(separator: "; "),
                hint: "database.json was not written as moved; run `callvault migrate-store` again (it resumes)")
        }
        if !json {
            let keys = output.keys != nil ? " (catalog and keys; keys.sqlite is" : " (catalog; keys stay in keys.sqlite; catalog.sqlite is"
            print("\(directory.path) now uses \(database.url)\(keys) kept unchanged and no longer read)")
        }
    }
}
