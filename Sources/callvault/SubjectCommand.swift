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
        abstract: "Data-subject requests: erase everything about one caller (audited).",
        subcommands: [Erase.self]
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
            let stores = try RetentionStores(dataOptions, logger: logger)
            let erasure = SubjectErasure(
                catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, logger: logger)
            let receipt: SubjectErasure.Receipt
            do {
                receipt = try erasure.erase(tenantID: tenant, phoneNumber: phone)
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
                print("confirmation code: \(receipt.confirmationCode)")
            }
            if !receipt.failures.isEmpty { throw ExitCode(1) }
        }
    }
}
