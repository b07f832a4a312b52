import Foundation
import Testing
@testable import CallVaultCrypto

/// A temporary directory with helpers to write sealed files and to take them apart byte by byte.
final class SealedFileFixture {
    let directory: URL
    let key: SecretKey
    private var counter = 0

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cvr-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        key = try SecretKey()
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func newPath(_ name: String = "rec") -> String {
        counter += 1
        return directory.appendingPathComponent("\(name)-\(counter).cvr").path
    }

    static func metadata(
        tenant: String = "tenant-a", recording: String = "rec-1", part: UInt32 = 0, first: UInt32 = 0
    ) -> SealedFileMetadata {
        SealedFileMetadata(
            kind: .voice, tenantID: tenant, recordingID: recording, keyID: "dek-\(recording)", codec: .g711u,
            sampleRate: 8000, channels: 1, frameDurationMs: 20, createdAtMs: 1_763_800_000_000, partNumber: part,
            firstSegmentIndex: first)
    }

    /// Distinct, recognisable segment contents.
    static func segments(_ count: Int, size: Int = 100) -> [[UInt8]] {
        (0..<count).map { i in (0..<size).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) } }
    }

    /// Writes `segments`, the final one flagged `last` when `finish` is true.
    @discardableResult
    func write(
        _ segments: [[UInt8]], finish: Bool = true, key: SecretKey? = nil,
        metadata: SealedFileMetadata = metadata(), maxSegment: Int = 1024, path: String? = nil
    ) throws -> String {
        let path = path ?? newPath()
        let writer = try SealedFileWriter(
            path: path, dataKey: key ?? self.key, metadata: metadata, maxSegmentByteCount: maxSegment)
        for (i, segment) in segments.enumerated() {
            try segment.withUnsafeBytes { try writer.append($0, last: finish && i == segments.count - 1) }
        }
        if finish && segments.isEmpty { try writer.finish() }
        try writer.close()
        return path
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Writes `bytes` as a new file and returns its path (the original stays untouched).
    func save(_ bytes: [UInt8]) throws -> String {
        let path = newPath("forged")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func headerLength(_ bytes: [UInt8]) -> Int { Int(bytes[6]) << 8 | Int(bytes[7]) }

    /// Byte ranges of each segment frame (frame header, ciphertext and tag).
    static func frames(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = headerLength(bytes)
        while offset + 9 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let end = offset + 9 + length + 16
            ranges.append(offset..<min(end, bytes.count))
            offset = end
        }
        return ranges
    }

    func readAll(
        _ path: String, key: SecretKey? = nil, tenant: String = "tenant-a", recording: String = "rec-1",
        allowIncomplete: Bool = false
    ) throws(SealedFileError) -> [UInt8] {
        let reader = try SealedFileReader(
            path: path, dataKey: key ?? self.key, expectedTenantID: tenant, expectedRecordingID: recording,
            allowIncomplete: allowIncomplete)
        return try reader.readAll()
    }

    /// The error code reading `path` fails with; records an issue if it does not fail.
    func failure(
        _ path: String, key: SecretKey? = nil, tenant: String = "tenant-a", recording: String = "rec-1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> SealedFileError? {
        do {
            let plaintext = try readAll(path, key: key, tenant: tenant, recording: recording)
            Issue.record("reading succeeded with \(plaintext.count) bytes", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }
}
