import ArgumentParser
import CallVaultArchive
import CallVaultModel
import CallVaultObjects
import CallVaultStore
import Foundation
import Logging

/// `callvault objects reconcile`: the object store's side of a data directory (`init --objects s3://...`).
struct ObjectsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objects",
        abstract: "Sealed files in an object store: upload what this node's spool still holds.",
        subcommands: [Reconcile.self]
    )

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload this node's closed sealed files that are not stored yet (after a crash or an outage).",
            discussion: """
                What `serve` does at start and every few seconds, once, for a node that is not serving (a
                worker machine, a node being retired) or after an outage of the store. Each closed
                recording or transcript whose spool copy is in this data directory is uploaded and
                verified, then its spool copy deleted; an upload a crash left open for the same key is
                aborted first. Files of other nodes are counted, not touched. Exit 1 when an upload failed
                (the spool copies stay; run it again once the store answers).
                """)

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false

        /// What one reconcile did, as printed by `--json`.
        struct Output: Codable {
            var store: String
            var uploaded: [String]
            var bytes: Int64
            var otherNodes: [String]
            var failures: [[String: String]]
        }

        func run() async throws {
            var logger = Logger(label: "callvault.objects")
            logger.logLevel = .error
            let files = try options.sealedFiles()
            guard let objects = files.objects else {
                throw CLIError.failure(
                    "\(files.dataDirectory.path) keeps its sealed files in the directory, not in an object store",
                    hint: "`callvault init --objects s3://BUCKET/PREFIX ...` sets one up for a new data directory")
            }
            defer { Task { await (objects as? S3ObjectStore)?.shutdown() } }
            let catalog: any CatalogStore
            do { catalog = try await options.openStore(logger: logger) } catch let error as CatalogError {
                throw CLIError.failure(error.message, hint: "check --data and that `callvault init` ran for it")
            }
            defer { Task { await catalog.close() } }
            guard let uploader = SealedFileUploader(catalog: catalog, files: files, logger: logger) else { return }
            var output = Output(store: objects.location, uploaded: [], bytes: 0, otherNodes: [], failures: [])
            // Passes until one uploads nothing more (each looks at the oldest rows awaiting upload).
            while true {
                let report: SealedFileUploader.Report
                do { report = try await uploader.uploadPending(limit: 500) } catch {
                    throw CLIError.failure(error.message, hint: "check the catalog is reachable, then retry")
                }
                output.uploaded += report.uploaded
                output.bytes += report.bytes
                output.otherNodes = report.notHere
                output.failures = report.failures.map { ["id": $0.id, "reason": $0.reason] }
                if report.uploaded.isEmpty || !report.failures.isEmpty { break }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                print("uploaded \(output.uploaded.count) file(s), \(output.bytes) bytes, to \(output.store)")
                if !output.otherNodes.isEmpty {
                    print("\(output.otherNodes.count) file(s) awaiting upload are in other nodes' spools")
                }
                for failure in output.failures { print("failed  \(failure["id"] ?? ""): \(failure["reason"] ?? "")") }
            }
            if !output.failures.isEmpty {
                throw CLIError.failure(
                    "\(output.failures.count) file(s) could not be uploaded; their spool copies are kept",
                    hint: "check the store answers (see the reasons above), then run `callvault objects reconcile` again")
            }
        }
    }
}
