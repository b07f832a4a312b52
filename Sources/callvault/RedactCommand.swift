import ArgumentParser
import CallVaultModel
import CallVaultRedaction
import CallVaultRetention
import CallVaultStore
import Foundation
import Logging

/// `callvault redact --call ID`: redacts a stored call's transcript and recorded voice again, with its
/// tenant's policy (or `--redact`); for calls transcribed before the policy was set, or after a detector
/// upgrade. Prints ids and counts, never a value.
struct RedactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Redact a stored call: placeholders in its transcript, silence in its recorded voice (audited).",
        discussion: """
            The newest transcript of the call is read and the detector runs over it again; what it finds is \
            replaced by placeholders in a re-sealed transcript (the old one is shredded, its expiry kept). \
            Then every redacted span is silenced, padded by 250 ms, in both tracks of the recording: each \
            track is re-sealed under a new key, checked, and the original's key destroyed. Recordings under \
            legal hold or restricted are left as they are and listed.
            """)

    @OptionGroup var options: DataOptions
    @Option(help: "The call: its id or the provider's call id.") var call: String
    @Option(help: "Categories to redact (pci,bank,contact,ids); default: the call's tenant policy.") var redact: String?
    @Flag(help: "Print one JSON document on stdout.") var json = false

    func validate() throws {
        if let redact {
            do { _ = try TenantRedaction(listText: redact) } catch { throw ValidationError("--redact: \(error.message)") }
        }
    }

    func run() async throws {
        var logger = Logger(label: "callvault.redact")
        logger.logLevel = .warning
        let stores = try await RetentionStores.open(options, logger: logger)
        let record: CallRecord
        do {
            if let found = try? await stores.catalog.call(id: call, tenantID: nil) {
                record = found
            } else {
                let matches = try await stores.catalog.calls(externalID: call)
                guard matches.count == 1, let only = matches.first else {
                    throw CLIError.failure(
                        matches.isEmpty ? "no call \(call)" : "\(matches.count) calls have the provider id \(call)",
                        hint: "give the call's id (see `callvault calls list`)")
                }
                record = only
            }
        }
        var categories: Set<RedactionCategory>
        if let redact {
            categories = try TenantRedaction(listText: redact).categories
        } else {
            do { categories = try await stores.catalog.tenant(id: record.tenantId).policy.redact.categories } catch {
                throw CLIError.failure(error.message, hint: "check the catalog is reachable")
            }
        }
        let redaction = CallRedaction(
            catalog: stores.catalog, keyStore: stores.keyStore, files: stores.files, logger: logger, actor: "cli")
        let report: CallRedaction.Report
        do { report = try await redaction.redact(callID: record.id, categories: categories) } catch {
            throw CLIError(error)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("call \(report.callID): transcript \(report.resealedTranscript.map { "re-sealed as \($0) (\(report.newSpans) new span(s))" } ?? "unchanged"), \(report.spans) span(s) in all")
        for item in report.audio.redacted {
            print("  \(item.track.rawValue) recording \(item.original) -> \(item.copy): \(item.spans) span(s), \(item.silencedMs) ms silenced, original shredded")
        }
        for id in report.audio.unchanged { print("  recording \(id): already redacted over these spans") }
        for left in report.audio.skipped { print("  recording \(left.recording): left as it is (\(left.reason))") }
        for failed in report.audio.failed {
            print("  recording \(failed.recording): FAILED its check (\(failed.reason)); restricted, the copy destroyed")
        }
        if !report.audio.failed.isEmpty {
            throw CLIError.failure(
                "\(report.audio.failed.count) recording(s) could not be redacted safely",
                hint: "they are restricted; see `callvault audit list` for recording.redaction_failed")
        }
    }
}
