import ArgumentParser
import CallVaultKeyProviders
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `callvault keys migrate --to pkcs11|transit`: moves a `local` data directory's day keys under provider
/// keys, resumably and audited, without touching a sealed file.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage where a data directory's keys live (key providers).",
        subcommands: [Migrate.self, Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace every day key of a tenant with fresh ones under fresh provider keys (audited).",
            discussion: """
                Each of the tenant's day keys in the key provider is replaced by a fresh day key under a \
                fresh provider key; its data keys are re-wrapped and the old provider key destroyed, so \
                a copy of the old wrapped keys (a backup, a leaked key store) is useless from then on. One \
                transaction per day key: a killed rotation leaves every key readable, and running it \
                again finishes it.
                """)

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The tenant id whose day keys are rotated.") var tenant: String
        @Flag(help: "Print one JSON document on stdout.") var json = false

        struct Report: Codable {
            var tenantId: String
            var dayKeysRotated: Int
            var dataKeysRewrapped: Int
            var providerKeysPending: [String]
            var dayKeysStillLocal: Int
        }

        func run() async throws {
            var logger = Logger(label: "callvault.keys")
            logger.logLevel = .warning
            let stores = try await RetentionStores.open(dataOptions, logger: logger)
            guard try stores.keyStore.hasTenant(tenant) else {
                throw CLIError.failure("tenant \(tenant) has no key", hint: "see `callvault tenant list`")
            }
            do {
                _ = try await stores.catalog.audit.append(
                    AuditEvent(actor: "cli", action: "keys.rotation_started", tenantID: tenant))
            } catch {
                throw CLIError.failure("cannot audit the rotation; nothing was rotated: \(error.message)")
            }
            let result: KeyStore.DayKeyRotation
            do { result = try stores.keyStore.rotateDayKeys(tenantID: tenant) } catch {
                throw CLIError.failure(
                    error.message, hint: "what was rotated stays rotated; run the command again to finish")
            }
            do {
                _ = try await stores.catalog.audit.append(
                    AuditEvent(
                        actor: "cli", action: "keys.rotated", tenantID: tenant,
                        details: [
                            "dayKeysRotated": String(result.dayKeysRotated),
                            "dataKeysRewrapped": String(result.dataKeysRewrapped),
                            "providerKeysPending": String(result.providerKeysPending.count),
                        ]))
            } catch {
                throw CLIError.failure("the day keys were rotated but the audit entry failed: \(error.message)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                let report = Report(
                    tenantId: tenant, dayKeysRotated: result.dayKeysRotated, dataKeysRewrapped: result.dataKeysRewrapped,
                    providerKeysPending: result.providerKeysPending, dayKeysStillLocal: result.localDayKeys)
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("rotated \(result.dayKeysRotated) day key(s) of tenant \(tenant), re-wrapping \(result.dataKeysRewrapped) data key(s)")
                if result.localDayKeys > 0 {
                    print("\(result.localDayKeys) day key(s) are still local: move them with `callvault keys migrate`")
                }
                if !result.providerKeysPending.isEmpty {
                    print("the key provider has not destroyed \(result.providerKeysPending.count) old provider key(s) yet; run `callvault sweep` when it answers")
                }
            }
            if !result.providerKeysPending.isEmpty { throw ExitCode(1) }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a local data directory's day keys into a PKCS#11 token or a Transit engine (resumable, audited).",
            discussion: """
                Every day key wrapped by its tenant key is wrapped again by a provider key of its own \
                (same key id: data keys and sealed files are untouched), one at a time, so a killed run \
                resumes when run again. key-provider.json is written first, so processes started from then \
                on open the provider; restart running serve, transcribe and sweep processes, then run the \
                command again to move any day key they made meanwhile.
                """)

        @OptionGroup var dataOptions: DataOptions

        @Option(help: ArgumentHelp("The key provider to move to: pkcs11 or transit.", valueName: "KIND"))
        var to: String

        @OptionGroup var providerSettings: ProviderSettingsOptions

        @Flag(help: "Print one JSON document on stdout.") var json = false

        var kind: KeyProviderKind? { KeyProviderKind(rawValue: to) }

        func validate() throws {
            guard let kind, kind != .local else {
                throw ValidationError("--to '\(to)' must be pkcs11 or transit (moving keys back to local is not supported)")
            }
            try providerSettings.validate(kind: kind, choice: "--to", environment: ProcessInfo.processInfo.environment)
        }

        struct Report: Codable {
            var dataDirectory: String
            var from: String
            var keyProvider: String
            var dayKeysMigrated: Int
            var dayKeysAlreadyInProvider: Int
            var dayKeysStillLocal: Int
        }

        func run() async throws {
            var logger = Logger(label: "callvault.keys")
            logger.logLevel = .warning
            let directory = try dataOptions.directory
            guard let existing = try InitCommand.existingProvider(directory) else {
                throw CLIError.failure("\(directory.path) is not a data directory", hint: "run `callvault init` first")
            }
            let target = providerSettings.settings(kind: kind ?? .pkcs11)
            if existing.kind != .local, !existing.namesSameKeys(as: target) {
                throw CLIError.failure(
                    "\(directory.path) uses the key provider \(existing.summary); moving it to \(target.summary) is not built",
                    hint: "keys migrate moves a local directory into a provider, or finishes such a move")
            }
            let provider: (any KeyProvider)?
            do { provider = try target.open() } catch let error as KeyProviderSettings.SecretError {
                throw CLIError.usage(error.message, hint: "see `callvault help keys migrate`")
            }
            guard let provider else { throw CLIError.failure("no key provider to move to") }
            defer { (provider as? TransitKeyProvider)?.shutdown() }

            // The audit log of the directory's catalog, wherever it is (SQLite or PostgreSQL).
            let catalog: any CatalogStore
            do { catalog = try await dataOptions.openStore(logger: logger) } catch let error as CatalogError {
                throw CLIError.failure(error.message, hint: "check --data and that `callvault init` ran for it")
            }
            do {
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "cli", action: "keys.migration_started",
                        details: ["from": existing.kind.rawValue, "to": target.summary]))
            } catch {
                throw CLIError.failure("cannot audit the migration; nothing was moved: \(error.message)")
            }
            // From here on every process that starts opens the provider; day keys not moved yet still
            // open under their tenant keys.
            if try KeyProviderSettings.read(directory) != target { try target.write(directory) }
            let keyStore: KeyStore
            do { keyStore = try KeyStore(dataDirectory: directory, logger: logger, dayKeyProvider: provider) } catch {
                throw CLIError.failure(error.message)
            }
            let result: KeyStore.DayKeyMigration
            let remaining: Int
            do {
                result = try keyStore.migrateLocalDayKeys(to: provider)
                remaining = try keyStore.localDayKeyCount()
            } catch {
                throw CLIError.failure(error.message, hint: "nothing moved so far is lost: run the command again when the provider answers")
            }
            do {
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "cli", action: "keys.migrated",
                        details: [
                            "to": target.summary, "dayKeysMigrated": String(result.migrated),
                            "dayKeysStillLocal": String(remaining),
                        ]))
            } catch {
                throw CLIError.failure("the day keys were moved but the audit entry failed: \(error.message)")
            }
            let report = Report(
                dataDirectory: directory.path, from: existing.kind.rawValue, keyProvider: target.kind.rawValue,
                dayKeysMigrated: result.migrated, dayKeysAlreadyInProvider: result.alreadyInProvider,
                dayKeysStillLocal: remaining)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("moved \(result.migrated) day key(s) into \(target.summary); \(result.alreadyInProvider) were there already")
                print("restart running serve, transcribe and sweep processes, then run this again to move day keys they made meanwhile")
            }
        }
    }
}
