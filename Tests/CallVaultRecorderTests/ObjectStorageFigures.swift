import CallVaultArchive
import CallVaultCrypto
import CallVaultModel
import CallVaultObjects
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// Issue 15's figures, side by side in one run: the uploader's throughput into S3 (moto on loopback) and
/// into a local directory store, against a plain file copy of the same bytes; and the cost of reading one
/// long sealed recording from the local disk, from a local directory store and from S3 with ranged GETs
/// (1 MiB windows). Prints `measured: …`; asserts only that what was read equals what was written (this
/// shared 2-core machine varies). Off unless `CALLVAULT_OBJECTS_FIGURES=1`. See docs/object-storage.md.
@Suite(
    "Object storage figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_OBJECTS_FIGURES"] == "1",
        "measurements only: set CALLVAULT_OBJECTS_FIGURES=1"),
    .serialized, .timeLimit(.minutes(20)))
struct ObjectStorageFigures {
    /// 40 tracks of 46 s G.711 (≈370 KB sealed) and two of a 25-minute PCM16 call (≈24 MiB, multipart).
    static let small = (count: 40, bytes: 370_000)
    static let large = (count: 2, bytes: 24 * 1024 * 1024)

    func s3Store() async throws -> S3ObjectStore {
        let server = try S3TestServer.required()
        let store = try S3ObjectStore(
            .init(
                endpoint: server.endpoint, region: server.region, bucket: S3TestServer.uniqueBucketName("figures"),
                addressing: .path, requestTimeout: .seconds(120)),
            credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey))
        try await store.createBucket()
        return store
    }

    /// Spooled, closed recordings whose spool files hold random bytes; returns their total size.
    func spool(into data: TestDataDirectory) throws -> Int {
        let (tenant, _) = try data.addTenant("acme")
        let call = try data.catalog.registerCall(tenantID: tenant.id, externalID: "CA-figures")
        var random = SeededRandom(seed: 7)
        var total = 0
        for size in Array(repeating: Self.small.bytes, count: Self.small.count) + Array(repeating: Self.large.bytes, count: Self.large.count) {
            let path = "recordings/\(tenant.id)/2026-12-06/\(UUID().uuidString.lowercased()).cvr"
            let recording = try data.catalog.createRecording(
                callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: path, storage: .spooled)
            try data.catalog.finishRecording(id: recording.id, state: .complete, durationMs: 1000, bytes: Int64(size))
            let file = data.directory.resolve(path)
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: file, contents: Data(random.bytes(size))))
            total += size
        }
        return total
    }

    @Test func uploadThroughputAndTheCostOfReadingFromS3AgainstLocalDisk() async throws {
        let s3 = try await s3Store()
        defer { Task { await s3.shutdown() } }
        let scratch = try TemporaryDirectory("objects-figures")
        defer { scratch.remove() }
        let local = try LocalObjectStore(root: scratch.appending("bucket"))

        // Upload: the whole spool, one pass, per store; a plain copy of the same bytes as the reference.
        for (name, store) in [("local directory store", local as any ObjectStore), ("S3 (moto, loopback)", s3)] {
            let data = try TestDataDirectory("figures-\(name.prefix(5))")
            let total = try spool(into: data)
            let copy = scratch.appending("copy-\(name.prefix(5))")
            let copyStarted = ContinuousClock.now
            try FileManager.default.copyItem(atPath: data.directory.recordingsPath, toPath: copy)
            let copySeconds = (ContinuousClock.now - copyStarted).seconds
            let uploader = try #require(
                SealedFileUploader(
                    catalog: data.catalog, files: SealedFiles(dataDirectory: data.directory, objects: store),
                    logger: Logger(label: "figures")))
            let started = ContinuousClock.now
            let report = try await uploader.uploadPending(limit: 1000)
            let seconds = (ContinuousClock.now - started).seconds
            #expect(report.uploaded.count == Self.small.count + Self.large.count && report.failures.isEmpty, "\(report.failures)")
            let megabytes = Double(total) / 1_048_576
            print(
                "measured: upload to \(name): \(report.uploaded.count) files, \(String(format: "%.1f", megabytes)) MiB in "
                    + "\(String(format: "%.2f", seconds)) s = \(String(format: "%.1f", megabytes / seconds)) MiB/s, "
                    + "\(String(format: "%.1f", Double(report.uploaded.count) / seconds)) files/s (verified, spool deleted); "
                    + "cp of the same files: \(String(format: "%.0f", megabytes / copySeconds)) MiB/s")
        }

        // Read: one 30-minute PCM16 recording (1 s segments), whole, verified segment by segment.
        let key = try SecretKey()
        let path = scratch.appending("long.cvr")
        let metadata = SealedFileMetadata(
            kind: .voice, tenantID: "tenant-a", recordingID: "rec-long", keyID: "dek", codec: .pcm16, sampleRate: 8000,
            channels: 1, frameDurationMs: 20, createdAtMs: 1_765_000_000_000)
        let writer = try SealedFileWriter(path: path, dataKey: key, metadata: metadata, maxSegmentByteCount: 16_384)
        var random = SeededRandom(seed: 3)
        var plaintext = 0
        for second in 0..<1800 {
            let segment = random.bytes(16_000)
            try segment.withUnsafeBytes { try writer.append($0, last: second == 1799) }
            plaintext += segment.count
        }
        try writer.close()
        let sealed = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let objectKey = "recordings/tenant-a/2026-12-06/rec-long.cvr"
        _ = try await local.put(objectKey, bytes: sealed)
        _ = try await s3.put(objectKey, bytes: sealed)
        func read(_ part: SealedPartSource) async throws -> (seconds: Double, bytes: Int) {
            let started = ContinuousClock.now
            let bytes = try await ObjectReading.run { () throws(SealedFileError) -> Int in
                let reader = try SealedRecordingReader(
                    parts: [part], dataKey: key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-long")
                var count = 0
                while let segment = try reader.next() { count += segment.plaintext.count }
                return count
            }
            return ((ContinuousClock.now - started).seconds, bytes)
        }
        var lines: [String] = []
        var disk = 0.0
        for round in 0..<3 {
            let file = try await read(.file(path))
            let directory = try await read(.object(objectKey, in: local, size: sealed.count))
            let bucket = try await read(.object(objectKey, in: s3, size: sealed.count))
            #expect([file.bytes, directory.bytes, bucket.bytes].allSatisfy { $0 == plaintext })
            disk = file.seconds
            lines.append(
                "round \(round + 1): local disk \(String(format: "%.0f", file.seconds * 1000)) ms, "
                    + "directory store \(String(format: "%.0f", directory.seconds * 1000)) ms "
                    + "(×\(String(format: "%.1f", directory.seconds / file.seconds))), "
                    + "S3 \(String(format: "%.0f", bucket.seconds * 1000)) ms (×\(String(format: "%.1f", bucket.seconds / file.seconds)))")
        }
        print(
            "measured: reading a 30-min PCM16 recording (\(sealed.count / 1_048_576) MiB sealed, 1,800 segments), "
                + "\(Int(ceil(Double(sealed.count) / 1_048_576))) ranged GETs of 1 MiB from a store: "
                + lines.joined(separator: "; ") + " (last disk read \(String(format: "%.0f", Double(sealed.count) / 1_048_576 / disk)) MiB/s)")
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
