import ArgumentParser
import CallVaultRetention
import CallVaultStore
import Foundation
import Logging

/// `callvault subject ...`: data-subject requests, found by the caller's number through the
/// tenant's keyed phone hash (the number is never stored, logged or audited in plaintext).
struct SubjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subject",
        abstract: "Data-subject requests: export or erase everything about one caller (audited).",
        subcommands: [Export.self, Erase.self]
    )

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Crypto-erase one caller's recordings and transcripts now; prints a confirmation code.",
            discussion: """
                Held recordings (legal hold) are kept and listed. The confirmation code is in the audit
                log (`callvault audit list`), so the erasure can be proven later without the number.
                """
        )

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The tenant's id.") var tenant: String
        @Option(help: "The caller's phone number, as the telephony provider sent it (e.g. +442079460000).")
        var phone: String
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func validate() throws {
            if phone.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--phone needs the caller's number")
            }
        }

        func run() async throws {
            ProcessHardening.disableCoreDumps()
            var logger = Logger(label: "callvault.subject")
            logger.logLevel = .warning
            let stores = try await RetentionStores.open(dataOptions, logger: logger)
            let erasure = SubjectErasure(
                catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, logger: logger,
                objects: stores.objects)
            let receipt: SubjectErasure.Receipt
            do {
                receipt = try await erasure.erase(tenantID: tenant, phoneNumber: phone)
            } catch {
                throw CLIError(error)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(receipt), as: UTF8.self))
            } else {
                print("erased: \(receipt.recordingsErased.count) recording(s), \(receipt.transcriptsErased.count) transcript(s) in \(receipt.calls.count) call(s)")
                if !receipt.recordingsHeld.isEmpty {
                    print("kept under legal hold: \(receipt.recordingsHeld.joined(separator: ", "))")
                }
                for failure in receipt.failures {
                    print("not finished: \(failure.recordingID): \(failure.reason) (run the command again)")
                }
                if receipt.dayKeysRegenerated > 0 {
                    print("regenerated \(receipt.dayKeysRegenerated) day key(s) in the key provider and re-wrapped \(receipt.dataKeysRewrapped) other data key(s) of those days")
                }
                if !receipt.providerKeysPending.isEmpty {
                    print("not yet backup-proof: the key provider has not destroyed \(receipt.providerKeysPending.count) replaced day key(s) (\(receipt.providerKeysPending.joined(separator: ", "))); run `callvault sweep` when it answers")
                } else if !receipt.backupProof {
                    print("note: on the local key provider a backup holding keys.sqlite and the root key can open the erased data until its day key expires (docs/key-providers.md)")
                } else if receipt.dayKeysRegenerated > 0 {
                    print("backup-proof: copies of the erased keys in any backup can no longer be opened")
                }
                print("confirmation code: \(receipt.confirmationCode)")
            }
            if !receipt.failures.isEmpty || !receipt.providerKeysPending.isEmpty { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export everything about one caller into a ZIP: audio (WAV), transcripts (JSON), consent events, a manifest.",
            discussion: """
                For a data-subject access request (GDPR Art. 15/20); layout in docs/subject-export.md. The number
                is never written into the archive, the logs or the audit log. Shredded items are listed as
                shredded; restricted recordings are left out unless --include-restricted (audited per recording).
                The file (mode 0600) appears only when complete; an existing file is refused unless --force.
                """
        )

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The tenant's id.") var tenant: String
        @Option(help: "The caller's phone number, as the telephony provider sent it (e.g. +442079460000).")
        var phone: String
        @Option(help: "The ZIP file to write.") var out: String
        @Flag(help: "Replace --out if it exists.") var force = false
        @Flag(help: "Include restricted recordings (GDPR Art. 18); each is audited as a restriction override.")
        var includeRestricted = false
        @Option(help: "Why restrictions are overridden (with --include-restricted; default: the data subject's own request).")
        var overrideReason: String?
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func validate() throws {
            if phone.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--phone needs the caller's number")
            }
            if overrideReason != nil && !includeRestricted {
                throw ValidationError("--override-reason goes with --include-restricted")
            }
        }

        func run() async throws {
            ProcessHardening.disableCoreDumps()
            var logger = Logger(label: "callvault.subject")
            logger.logLevel = .warning
            let stores = try await RetentionStores.open(dataOptions, logger: logger)
            let export = SubjectExport(
                catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, logger: logger,
                objects: stores.objects)
            var options = SubjectExport.Options(includeRestricted: includeRestricted, overwrite: force)
            if let overrideReason { options.overrideReason = overrideReason }
            let receipt: SubjectExport.Receipt
            do {
                receipt = try await export.export(tenantID: tenant, phoneNumber: phone, to: out, options: options)
            } catch {
                throw CLIError(error)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(receipt), as: UTF8.self))
            } else {
                print("wrote \(out): \(receipt.calls.count) call(s), \(receipt.recordingsIncluded) recording(s), \(receipt.transcriptsIncluded) transcript(s), \(receipt.bytes) bytes")
                if receipt.recordingsShredded + receipt.transcriptsShredded > 0 {
                    print("listed as shredded: \(receipt.recordingsShredded) recording(s), \(receipt.transcriptsShredded) transcript(s)")
                }
                if receipt.recordingsRestricted + receipt.transcriptsRestricted > 0 {
                    print("left out as restricted: \(receipt.recordingsRestricted) recording(s), \(receipt.transcriptsRestricted) transcript(s) (--include-restricted to include them, audited)")
                }
                if receipt.restrictionsOverridden > 0 {
                    print("restricted but included (audited override): \(receipt.restrictionsOverridden) recording(s)")
                }
                if receipt.recordingsUnreadable + receipt.transcriptsUnreadable > 0 {
                    print("unreadable, see manifest.json: \(receipt.recordingsUnreadable) recording(s), \(receipt.transcriptsUnreadable) transcript(s) (run `callvault verify`)")
                }
                print("export id (in the audit log): \(receipt.exportId)")
            }
            if receipt.recordingsUnreadable + receipt.transcriptsUnreadable > 0 { throw ExitCode(1) }
        }
    }
}
