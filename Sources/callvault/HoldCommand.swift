import ArgumentParser
import CallVaultRetention
import CallVaultStore
import Foundation
import Logging

/// `callvault hold set|clear RECORDING_ID`: legal hold, kept past expiry until cleared (audited).
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place or clear a legal hold on a recording (audited).",
        subcommands: [Set.self, Clear.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep a recording past its expiry until the hold is cleared.")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The recording's id (see `callvault recordings list`).") var recordingID: String
        @Option(help: "Why it is held (kept in the catalog and the audit log; no personal data).")
        var reason: String?
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func run() async throws {
            let stores = try await RetentionStores.open(dataOptions, logger: HoldCommand.logger)
            let hold = LegalHold(catalog: stores.catalog, keyStore: stores.keyStore)
            do {
                let recording = try await hold.set(recordingID: recordingID, reason: reason)
                HoldCommand.print(recordingID: recording.id, held: true, outcome: "held", json: json)
            } catch {
                throw CLIError(error)
            }
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a hold; a recording past its expiry loses its key now and its file at the next sweep.")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The recording's id.") var recordingID: String
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func run() async throws {
            let stores = try await RetentionStores.open(dataOptions, logger: HoldCommand.logger)
            let hold = LegalHold(catalog: stores.catalog, keyStore: stores.keyStore)
            do {
                let outcome = try await hold.clear(recordingID: recordingID)
                let text =
                    switch outcome {
                    case .shredded: "released; expired meanwhile, so its key was destroyed (file goes at the next sweep)"
                    case .rewrapped(_, let day): "released; expires on \(day)"
                    case nil: "released"
                    }
                HoldCommand.print(recordingID: recordingID, held: false, outcome: text, json: json)
            } catch {
                throw CLIError(error)
            }
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "callvault.hold")
        logger.logLevel = .warning
        return logger
    }

    static func print(recordingID: String, held: Bool, outcome: String, json: Bool) {
        if json {
            let object: [String: String] = ["recordingId": recordingID, "held": held ? "true" : "false", "outcome": outcome]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            Swift.print(String(decoding: (try? encoder.encode(object)) ?? Data(), as: UTF8.self))
        } else {
            Swift.print("recording \(recordingID): \(outcome)")
        }
    }
}
