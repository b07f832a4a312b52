import ArgumentParser
import CallVaultCrypto
import CallVaultStore
import Foundation
import Logging

/// `callvault verify PATH...`: checks that sealed recording files authenticate end to end.
///
/// For each file the header (plaintext, authenticated later) names the tenant and recording; the data
/// key is fetched from the key store by that recording id, and every segment is authenticated. Parts
/// of one multi-part recording given together are checked as one recording, in part order.
/// Statuses: `ok`, `truncated` (no `last` segment: a crash or a cut tail), `tampered` (anything changed,
/// moved or unknown to the key store), `shredded` (its key was destroyed: unreadable by design),
/// `missing` (no such file). Exit 1 if any is not `ok` or `shredded`.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that sealed recording files (.cvr) authenticate and are complete.",
        discussion:
            "Exit status 1 if any recording is truncated, tampered or missing; shredded recordings count as fine."
    )

    @OptionGroup var dataOptions: DataOptions

    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    @Argument(help: ArgumentHelp("Sealed recording files to check.", valueName: "PATH"))
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one .cvr file to verify") }
    }

    func run() async throws {
        // Data keys are unwrapped here: keep them out of any core dump.
        ProcessHardening.disableCoreDumps()
        var logger = Logger(label: "callvault.verify")
        logger.logLevel = .warning
        let store = try KeyStore(dataDirectory: dataOptions.directory, logger: logger)
        let results = Self.verify(paths: paths, keyStore: store)
        let report = VerifyReport(recordings: results)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for result in results {
                let what = result.recordingID.map { "recording \($0)" } ?? "file"
                var line = "\(result.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(what): "
                line += result.paths.joined(separator: ", ")
                if let segments = result.segmentCount { line += " (\(segments) segments)" }
                if let detail = result.detail { line += " — \(detail)" }
                print(line)
            }
        }
        if !report.allFine {
            throw ExitCode(1)
        }
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
