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

    func run() async throws {
        let directory = try options.directory
        if let existing = try DatabaseSettings.read(directory) {
            throw CLIError.failure(
                "\(directory.path) already keeps its catalog in \(existing.url)", hint: "nothing to migrate")
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
        if report.verified { try database.write(directory) }
        if json {
            try CatalogCommandSupport.printJSON(report)
        } else {
            CatalogCommandSupport.printTable(
                header: ["TABLE", "SQLITE", "COPIED", "POSTGRESQL"],
                rows: report.tables.map { [$0.table, String($0.source), String($0.copied), String($0.target)] })
            print("audit chain: \(report.auditEntries) entries, head \(report.auditHeadHash)")
        }
        guard report.verified else {
            throw CLIError.failure(
                "the copy in \(database.url) does not match: " + report.mismatches.joined(separator: "; "),
                hint: "database.json was not written; this directory still uses catalog.sqlite")
        }
        if !json {
            print("\(directory.path) now uses \(database.url); catalog.sqlite is kept unchanged and no longer read")
        }
    }
}
