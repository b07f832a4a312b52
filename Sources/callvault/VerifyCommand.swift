import ArgumentParser
import CallVaultArchive
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `callvault verify [ID ...|PATH ...|--all]`: checks that sealed recordings authenticate end to end.
///
/// A recording id (or every recording with `--all`) is looked up in the catalog: its `path` names part
/// 0, later parts lie beside it (`RecordingFiles`), and its data key comes from the key store by id.
/// A path argument (it contains `/` or ends in `.cvr`) is checked as a file: the header (plaintext,
/// authenticated later) names the tenant and recording, and parts of one recording given together
/// are checked as one recording, in part order.
/// Statuses: `ok`, `truncated` (no `last` segment: a crash or a cut tail), `tampered` (anything changed,
/// moved or unknown to the key store), `shredded` (its key was destroyed: unreadable by design),
/// `missing` (no such file, or no such recording), `unavailable` (its key could not be fetched: the key
/// provider or key store failed; nothing is known about the file). Exit 1 if any is not `ok` or `shredded`.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that sealed recordings authenticate and are complete.",
        discussion: """
            Give recording ids (see `callvault recordings list`), .cvr file paths, or --all for every \
            recording in the catalog. Exit status 1 if any recording is truncated, tampered, missing or \
            unavailable (its key provider did not answer); shredded recordings count as fine.
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @Flag(name: .long, help: "Verify every recording in the catalog.")
    var all = false

    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    @Argument(help: ArgumentHelp("Recording ids, or sealed files (.cvr) to check.", valueName: "ID|PATH"))
    var targets: [String] = []

    func validate() throws {
        if targets.isEmpty && !all { throw ValidationError("give recording ids or .cvr files to verify, or --all") }
        if !targets.isEmpty && all { throw ValidationError("give either recording ids or --all, not both") }
    }

    /// How many part numbers after the first absent one are probed for a removed middle part.
    static let partsProbedBeyondAGap = 16

    /// A path names a file; anything else is a recording id (ids never contain `/`).
    static func isPath(_ target: String) -> Bool {
        target.contains("/") || target.hasSuffix(".cvr")
    }

    func run() async throws {
        // Data keys are unwrapped here: keep them out of any core dump.
        ProcessHardening.disableCoreDumps()
        let store = try await dataOptions.openKeyStore()
        let paths = targets.filter(Self.isPath)
        let ids = targets.filter { !Self.isPath($0) }
        var results = Self.verify(paths: paths, keyStore: store)
        if all || !ids.isEmpty {
            results += try await dataOptions.withStore { catalog in
                try await Self.verify(
                    recordingIDs: all ? nil : ids, catalog: catalog, keyStore: store, directory: dataOptions.directory)
            }
        }
        let report = VerifyReport(recordings: results)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for result in results {
                let what = result.recordingID.map { "recording \($0)" } ?? "file"
                var line = "\(result.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(what)"
                if !result.paths.isEmpty { line += ": " + result.paths.joined(separator: ", ") }
                if let segments = result.segmentCount { line += " (\(segments) segments)" }
                if let detail = result.detail { line += " — \(detail)" }
                print(line)
            }
            if results.isEmpty { print("no recordings to verify") }
        }
        if !report.allFine {
            throw ExitCode(1)
        }
    }

    /// Verifies recordings by catalog id (nil: every recording, oldest first); the testable core of
    /// `verify ID...` and `verify --all`.
    ///
    /// Shredded is decided by the key store (the key is gone, whatever the files say); an id the
    /// catalog does not know is `missing`, as is a recording whose part 0 is not on disk.
    static func verify(
        recordingIDs: [String]?, catalog: any CatalogStore, keyStore: KeyStore, directory: DataDirectory
    ) async throws(CatalogError) -> [VerifyResult] {
        guard let recordingIDs else {
            var results: [VerifyResult] = []
            for summary in try await catalog.recordingSummaries(callID: nil, tenantID: nil).reversed() {
                results.append(verify(try await catalog.recording(id: summary.id, tenantID: nil), keyStore: keyStore, directory: directory))
            }
            return results
        }
        var results: [VerifyResult] = []
        for id in recordingIDs {
            do throws(CatalogError) {
                results.append(verify(try await catalog.recording(id: id, tenantID: nil), keyStore: keyStore, directory: directory))
            } catch where error.code == .notFound {
                results.append(
                    VerifyResult(
                        paths: [], status: .missing, recordingID: id,
                        detail: "the catalog has no recording with this id"))
            }
        }
        return results
    }

    private static func verify(_ recording: RecordingRecord, keyStore: KeyStore, directory: DataDirectory)
        -> VerifyResult
    {
        let firstPart = RecordingFiles.resolve(recording.path, in: directory)
        func result(_ status: VerifyResult.Status, _ paths: [String], _ detail: String?) -> VerifyResult {
            VerifyResult(
                paths: paths, status: status, tenantID: recording.tenantId, recordingID: recording.id, detail: detail)
        }
        if case .shredded? = try? keyStore.dataKeyStatus(ownerID: recording.id, tenantID: recording.tenantId) {
            return result(.shredded, [firstPart], nil)
        }
        let parts = RecordingFiles.existingParts(firstPart: firstPart)
        guard !parts.isEmpty else {
            let detail =
                recording.state == .shredded
                ? "the catalog marks it shredded but the key store still holds its key"
                : "its sealed file is not on disk"
            return result(recording.state == .shredded ? .tampered : .missing, [firstPart], detail)
        }
        // Parts are found by probing names until the first gap; a later part beyond the gap means a
        // part in the middle was removed, which must not pass for a crash-truncated recording.
        for later in (parts.count + 1)...(parts.count + Self.partsProbedBeyondAGap) {
            let path = RecordingFiles.partPath(firstPart: firstPart, part: later)
            if FileManager.default.fileExists(atPath: path) {
                let absent = RecordingFiles.partPath(firstPart: firstPart, part: parts.count)
                return result(.missing, parts + [path], "part \(absent) is missing, but part \(later) exists")
            }
        }
        let header: SealedFileHeader
        do throws(SealedFileError) { header = try readHeader(parts[0]) } catch {
            return result(error.code == .truncatedHeader ? .truncated : .tampered, parts, error.message)
        }
        return verifyRecording(
            tenantID: recording.tenantId, recordingID: recording.id, paths: parts,
            headerKeyID: header.metadata.keyID, keyStore: keyStore)
    }

    /// Verifies the files, grouping parts of the same recording; the testable core of the command.
    static func verify(paths: [String], keyStore: KeyStore) -> [VerifyResult] {
        var results: [VerifyResult] = []
        var groups: [String: (tenantID: String, recordingID: String, parts: [(UInt32, String, SealedFileHeader)])] = [:]
        var order: [String] = []
        for path in paths {
            do throws(SealedFileError) {
                let header = try readHeader(path)
                let key = header.metadata.tenantID + "\u{0}" + header.metadata.recordingID
                if groups[key] == nil {
                    groups[key] = (header.metadata.tenantID, header.metadata.recordingID, [])
                    order.append(key)
                }
                groups[key]!.parts.append((header.metadata.partNumber, path, header))
            } catch {
                let status: VerifyResult.Status =
                    switch error.code {
                    case .fileNotFound: .missing
                    case .truncatedHeader: .truncated
                    default: .tampered
                    }
                results.append(VerifyResult(paths: [path], status: status, detail: error.message))
            }
        }
        for key in order {
            guard let group = groups[key] else { continue }
            let parts = group.parts.sorted { $0.0 < $1.0 }
            results.append(
                verifyRecording(
                    tenantID: group.tenantID,
                    recordingID: group.recordingID,
                    paths: parts.map(\.1),
                    headerKeyID: parts[0].2.metadata.keyID,
                    keyStore: keyStore
                )
            )
        }
        return results
    }

    private static func verifyRecording(
        tenantID: String,
        recordingID: String,
        paths: [String],
        headerKeyID: String,
        keyStore: KeyStore
    ) -> VerifyResult {
        func result(_ status: VerifyResult.Status, _ detail: String?, segments: Int? = nil) -> VerifyResult {
            VerifyResult(
                paths: paths,
                status: status,
                tenantID: tenantID,
                recordingID: recordingID,
                segmentCount: segments,
                detail: detail
            )
        }
        let key: (keyID: String, key: SecretKey)
        do {
            key = try keyStore.dataKeyWithID(ownerID: recordingID, tenantID: tenantID)
        } catch {
            switch error.code {
            case .dataKeyShredded: return result(.shredded, nil)
            case .unknownDataKey, .unknownTenant:
                return result(.tampered, "the key store has no data key for this tenant and recording")
            case .unwrapFailed: return result(.tampered, error.message)
            case .providerFailed, .databaseFailed:
                return result(.unavailable, "cannot fetch the data key: \(error.message)")
            default: return result(.tampered, "cannot fetch the data key: \(error.message)")
            }
        }
        guard key.keyID == headerKeyID else {
            return result(.tampered, "the header names key \(headerKeyID), the key store holds \(key.keyID)")
        }
        let outcome = SealedRecordingVerifier.verify(
            partPaths: paths,
            dataKey: key.key,
            expectedTenantID: tenantID,
            expectedRecordingID: recordingID
        )
        switch outcome.status {
        case .ok: return result(.ok, nil, segments: outcome.segmentCount)
        case .truncated:
            return result(
                .truncated,
                "no last segment after \(outcome.segmentCount) segments",
                segments: outcome.segmentCount
            )
        case .missing(let path): return result(.missing, "part \(path) is missing", segments: outcome.segmentCount)
        case .tampered(let error): return result(.tampered, error.description, segments: outcome.segmentCount)
        }
    }

    /// Reads and decodes a file's header without a key (tenant, recording and key ids are plaintext).
    static func readHeader(_ path: String) throws(SealedFileError) -> SealedFileHeader {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let code: SealedFileError.Code = FileManager.default.fileExists(atPath: path) ? .ioFailed : .fileNotFound
            throw SealedFileError(code, code == .fileNotFound ? "no such file" : "cannot open the file", path: path)
        }
        defer { try? handle.close() }
        let prefix = [UInt8](handle.readData(ofLength: SealedFileHeader.fixedPrefixByteCount))
        if prefix.count < SealedFileHeader.fixedPrefixByteCount {
            let n = min(prefix.count, 4)
            if n > 0 && Array(prefix[0..<n]) == Array(SealedFileHeader.magic.prefix(n)) || prefix.isEmpty {
                throw SealedFileError(.truncatedHeader, "the file ends inside its header", path: path)
            }
            throw SealedFileError(.notASealedFile, "the file does not start with the CVRF magic", path: path)
        }
        let length = try SealedFileHeader.byteCount(fromPrefix: prefix, path: path)
        let rest = [UInt8](handle.readData(ofLength: length - prefix.count))
        guard rest.count == length - prefix.count else {
            throw SealedFileError(.truncatedHeader, "the file ends inside its header", path: path)
        }
        return try SealedFileHeader.decode(prefix + rest, path: path)
    }
}
