import ArgumentParser
import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `callvault transcripts list|show`: sealed call transcripts; every decryption is audited.
struct TranscriptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcripts",
        abstract: "List and read sealed call transcripts.",
        subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List transcripts, newest first (nothing is decrypted).")

        @OptionGroup var options: DataOptions
        @Option(help: "Only this call's transcripts.") var call: String?
        @Option(help: "Only this tenant's transcripts.") var tenant: String?
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try CatalogCommandSupport.run {
                let catalog = try options.openCatalog()
                var rows = try call.map { try catalog.transcripts(callID: $0) } ?? catalog.transcripts(tenantID: tenant)
                if let tenant { rows = rows.filter { $0.tenantId == tenant } }
                if json {
                    try CatalogCommandSupport.printJSON(["transcripts": rows])
                    return
                }
                CatalogCommandSupport.printTable(
                    header: ["ID", "CALL", "ENGINE", "STATE", "CREATED", "EXPIRES"],
                    rows: rows.map {
                        [
                            $0.id, $0.callId, $0.engine, $0.state.rawValue, CatalogCommandSupport.format($0.createdAt),
                            CatalogCommandSupport.format($0.expiresAt),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt and print a transcript (audited as transcript.decrypted).")

        @Argument(help: "The transcript id.") var id: String?
        @Option(help: "Show the newest readable transcript of this call (its id or the provider's call id) instead.")
        var call: String?
        @Option(help: "Output: text, json, srt or vtt.") var format: String = "text"
        @Option(
            help: "Show it even though a recording of its call is restricted (GDPR Art. 18), for this reason (audited).")
        var overrideReason: String?
        @OptionGroup var options: DataOptions

        func validate() throws {
            guard (id == nil) != (call == nil) else { throw ValidationError("give a transcript id or --call CALLID") }
            guard TranscriptOutput.Format(rawValue: format) != nil else {
                throw ValidationError("--format '\(format)' is not one of text, json, srt, vtt")
            }
        }

        func run() async throws {
            var logger = Logger(label: "callvault.transcripts")
            logger.logLevel = .warning
            let stores = try await RetentionStores.open(options, logger: logger)
            var transcriptID = id
            if let call {
                // The call's id, or the provider's id (a Twilio CallSid) it was registered with.
                var ids = [call]
                if (try? await stores.catalog.call(id: call, tenantID: nil)) == nil {
                    ids = try await stores.catalog.calls(externalID: call).map(\.id)
                }
                let rows = try await stores.catalog.transcripts(inCalls: ids).filter { $0.state == .complete }
                guard let newest = rows.max(by: { $0.createdAt < $1.createdAt }) else {
                    throw CLIError.failure(
                        "call \(call) has no readable transcript", hint: "see `callvault jobs list` for its transcription job")
                }
                transcriptID = newest.id
            }
            let store = TranscriptStore(
                catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, objects: stores.objects)
            let transcript: Transcript
            do {
                let override = overrideReason.map(RestrictionOverride.init(reason:))
                transcript = try await store.open(id: transcriptID ?? "", actor: "cli", restrictionOverride: override).transcript
            } catch {
                throw CLIError.failure(
                    error.message,
                    hint: error.code == .notFound ? "list transcripts with `callvault transcripts list`" : nil)
            }
            let output = TranscriptOutput.Format(rawValue: format) ?? .text
            switch output {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(transcript), as: UTF8.self))
            case .text:
                print(TranscriptOutput.text(TranscriptOutput.items(transcript)))
                for note in TranscriptOutput.notes(transcript) { print("# " + note) }
            case .srt, .vtt: print(TranscriptOutput.subtitles(TranscriptOutput.items(transcript), format: output), terminator: "")
            }
        }
    }
}
