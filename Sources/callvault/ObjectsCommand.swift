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
        subcommands: [Reconcile.self, Check.self]
    )

    /// The directory's sealed files and its object store; a directory without one is refused, naming how
    /// a data directory gets one.
    static func bucket(_ options: DataOptions) throws -> (SealedFiles, any ObjectStore) {
        let files = try options.sealedFiles()
        guard let objects = files.objects else {
            throw CLIError.failure(
                "\(files.dataDirectory.path) keeps its sealed files in the directory, not in an object store",
                hint: "`callvault init --objects s3://BUCKET/PREFIX ...` sets one up for a new data directory")
        }
        return (files, objects)
    }

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
            let (files, objects) = try ObjectsCommand.bucket(options)
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

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the bucket with the catalog: objects it does not know, stored rows without their object.",
            discussion: """
                Lists the bucket's recordings/ and transcripts/ and reads every recording and transcript row
                (a report for operators, not for every minute: its cost grows with both). Reports objects
                no row names (or whose row was shredded: the sweeper retries those), and rows marked stored
                whose object is gone. Nothing is changed. Exit 1 when either list is not empty.
                """)

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false

        struct Output: Codable {
            var store: String
            var objects: Int
            /// Keys no recording or transcript row names.
            var unknownObjects: [String]
            /// Keys of rows that were shredded (the object should be gone).
            var shreddedObjects: [String]
            /// Rows marked stored whose object (part 0) is not in the bucket: `kind id key`.
            var missingObjects: [String]
        }

        func run() async throws {
            var logger = Logger(label: "callvault.objects")
            logger.logLevel = .error
            let (_, objects) = try ObjectsCommand.bucket(options)
            defer { Task { await (objects as? S3ObjectStore)?.shutdown() } }
            var output = Output(store: objects.location, objects: 0, unknownObjects: [], shreddedObjects: [], missingObjects: [])
            try await options.withStore(logger: logger) { catalog in
                var keys: Set<String> = []
                for prefix in ["recordings/", "transcripts/"] {
                    let listed: [ObjectInfo]
                    do throws(ObjectStoreError) { listed = try await objects.list(prefix: prefix) } catch {
                        throw CLIError.failure(error.message, hint: "check the object store answers, then retry")
                    }
                    for object in listed {
                        keys.insert(object.key)
                        // KEY is `…/ID.cvr` or `…/ID.partN.cvr`: the row is found by the id and must name that stem.
                        let name = String(object.key.split(separator: "/").last ?? "")
                        let id = String(name.prefix { $0 != "." })
                        let path: String?, shredded: Bool
                        if prefix == "recordings/" {
                            let row = try? await catalog.recording(id: id, tenantID: nil)
                            (path, shredded) = (row?.path, row?.state == .shredded)
                        } else {
                            let row = try? await catalog.transcript(id: id, tenantID: nil)
                            (path, shredded) = (row?.path, row?.state == .shredded)
                        }
                        let stem = { (key: String) in key.hasSuffix(".cvr") ? String(key.dropLast(4)) : key }
                        guard let path, object.key == path || object.key.hasPrefix(stem(path) + ".part") else {
                            output.unknownObjects.append(object.key)
                            continue
                        }
                        if shredded { output.shreddedObjects.append(object.key) }
                    }
                }
                output.objects = keys.count
                for summary in try await catalog.recordingSummaries(callID: nil, tenantID: nil) {
                    let row = try await catalog.recording(id: summary.id, tenantID: nil)
                    if row.storage == .stored && row.state != .shredded && !keys.contains(row.path) {
                        output.missingObjects.append("recording \(row.id) \(row.path)")
                    }
                }
                for row in try await catalog.transcripts(tenantID: nil, limit: -1)
                where row.storage == .stored && row.state != .shredded && !keys.contains(row.path) {
                    output.missingObjects.append("transcript \(row.id) \(row.path)")
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                print("\(output.objects) object(s) in \(output.store)")
                for key in output.unknownObjects { print("unknown   \(key) (no recording or transcript names it)") }
                for key in output.shreddedObjects { print("shredded  \(key) (its row was shredded; the next sweep deletes it)") }
                for row in output.missingObjects { print("missing   \(row) (marked stored, not in the bucket)") }
            }
            if !output.unknownObjects.isEmpty || !output.missingObjects.isEmpty {
                throw CLIError.failure(
                    "\(output.unknownObjects.count) unknown object(s), \(output.missingObjects.count) missing object(s)",
                    hint: "a missing object cannot be read by anyone: restore it from a copy of the bucket if there is one")
            }
        }
    }
}
