import CallVaultCrypto
import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Synchronization

/// A sealed recording of several parts written as files with ``SealedFileWriter``, then put into an
/// object store under keys, for reading back through ``ObjectByteSource``.
final class SealedObjectSample: Sendable {
    static let tenant = "tenant-a"
    static let recording = "rec-1"

    let directory: TemporaryDirectory
    let key: SecretKey
    let partPaths: [String]
    let keys: [String]
    /// What the segments held, all parts joined.
    let plaintext: [UInt8]

    /// `counts[k]` segments in part `k`, of seeded sizes up to 1000 bytes (frames straddle windows).
    init(counts: [Int], seed: UInt64 = 15) throws {
        directory = try TemporaryDirectory("sealed-objects")
        key = try SecretKey()
        var random = SeededRandom(seed: seed)
        var paths: [String] = [], keys: [String] = [], plain: [UInt8] = []
        var first: UInt32 = 0
        for (part, count) in counts.enumerated() {
            let path = directory.appending("part-\(part).cvr")
            let metadata = SealedFileMetadata(
                kind: .voice, tenantID: Self.tenant, recordingID: Self.recording, keyID: "dek-rec-1", codec: .g711u,
                sampleRate: 8000, channels: 1, frameDurationMs: 20, createdAtMs: 1_763_800_000_000,
                partNumber: UInt32(part), firstSegmentIndex: first)
            let writer = try SealedFileWriter(path: path, dataKey: key, metadata: metadata, maxSegmentByteCount: 1024)
            for i in 0..<count {
                let segment = random.bytes(200 + Int(random.next() % 800))
                try segment.withUnsafeBytes { try writer.append($0, last: part == counts.count - 1 && i == count - 1) }
                plain += segment
            }
            try writer.close()
            paths.append(path)
            keys.append("tenant-a/2026/12/06/rec-1" + (part == 0 ? "" : ".\(part)") + ".cvr")
            first += UInt32(count)
        }
        partPaths = paths
        self.keys = keys
        plaintext = plain
    }

    deinit { directory.remove() }

    func bytes(part: Int) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: partPaths[part]))) }

    /// Puts every part into `store` under ``keys``.
    func put(into store: any ObjectStore) async throws {
        for part in partPaths.indices { _ = try await store.put(keys[part], bytes: try bytes(part: part)) }
    }

    /// Reads the whole recording from `parts` on a reading thread.
    func readAll(_ parts: [SealedPartSource]) async throws(SealedFileError) -> [UInt8] {
        let key = self.key
        return try await ObjectReading.run { () throws(SealedFileError) -> [UInt8] in
            let reader = try SealedRecordingReader(
                parts: parts, dataKey: key, expectedTenantID: Self.tenant, expectedRecordingID: Self.recording)
            return try reader.readAll()
        }
    }

    /// The error reading `parts` fails with (nil when it succeeded).
    func failure(_ parts: [SealedPartSource]) async -> SealedFileError? {
        do throws(SealedFileError) {
            _ = try await readAll(parts)
            return nil
        } catch {
            return error
        }
    }
}

/// An ``ObjectStore`` that passes every call on and records the ranges of the GETs.
final class GetRecordingStore: ObjectStore {
    let inner: any ObjectStore
    private let ranges = Mutex<[(key: String, range: ByteRange?)]>([])

    init(_ inner: any ObjectStore) { self.inner = inner }

    var gets: [(key: String, range: ByteRange?)] { ranges.withLock { $0 } }

    var location: String { inner.location }
    func get(_ key: String, range: ByteRange?) async throws(ObjectStoreError) -> [UInt8] {
        ranges.withLock { $0.append((key, range)) }
        return try await inner.get(key, range: range)
    }
    func head(_ key: String) async throws(ObjectStoreError) -> ObjectInfo { try await inner.head(key) }
    func put(_ key: String, bytes: [UInt8], options: PutOptions) async throws(ObjectStoreError) -> ObjectInfo {
        try await inner.put(key, bytes: bytes, options: options)
    }
    func createMultipartUpload(_ key: String) async throws(ObjectStoreError) -> MultipartUpload {
        try await inner.createMultipartUpload(key)
    }
    func uploadPart(_ upload: MultipartUpload, number: Int, bytes: [UInt8]) async throws(ObjectStoreError)
        -> UploadedPart
    { try await inner.uploadPart(upload, number: number, bytes: bytes) }
    func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws(ObjectStoreError)
        -> ObjectInfo
    { try await inner.completeMultipartUpload(upload, parts: parts) }
    func abortMultipartUpload(_ upload: MultipartUpload) async throws(ObjectStoreError) {
        try await inner.abortMultipartUpload(upload)
    }
    func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUpload] {
        try await inner.listMultipartUploads(prefix: prefix)
    }
    func delete(_ key: String) async throws(ObjectStoreError) { try await inner.delete(key) }
    func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] { try await inner.list(prefix: prefix) }
}
