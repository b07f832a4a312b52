import ArgumentParser
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
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    /// What `init` found and made.
    struct Report: Codable, Equatable {
        var dataDirectory: String
        var rootKey: String
        var keyStore: String
        var recordings: String
        /// Which parts this run created (false: it was already there and was checked).
        var created: Created

        struct Created: Codable, Equatable {
            var dataDirectory: Bool
            var rootKey: Bool
            var keyStore: Bool
        }
    }

    /// Creates (or checks) everything under `directory`; the testable core of the command.
    static func initialize(_ directory: DataDirectory, logger: Logger) throws(KeyStoreError) -> Report {
        let madeDirectory = try directory.create()
        let madeRootKey = try FileRootKey(path: directory.rootKeyPath).create()
        let keyStoreExisted = FileManager.default.fileExists(atPath: directory.keyStorePath)
        _ = try KeyStore(dataDirectory: directory, logger: logger)
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
            created: .init(dataDirectory: madeDirectory, rootKey: madeRootKey, keyStore: !keyStoreExisted)
        )
    }

    func run() async throws {
        var logger = Logger(label: "callvault.init")
        logger.logLevel = .warning
        let report = try Self.initialize(dataOptions.directory, logger: logger)
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
        if report.created.rootKey {
            print("Back up \(report.rootKey) somewhere safe and separate: without it nothing here can be read.")
        }
    }
}
