import CallVaultCrypto
import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

/// Sealed recordings read straight from a store by ranged GETs (``ObjectByteSource``), on a local
/// directory and on S3 (moto, signatures checked); an unreachable store; and a read misplaced on a
/// Swift concurrency thread refused instead of deadlocking.
@Suite("Sealed files read from object storage: local directory")
struct SealedObjectReadingLocalTests {
    @Test func threeParts() async throws {
        try await LocalObjectStoreTests.withStore { try await SealedObjectReadingChecks.threeParts($0) }
    }
    @Test func windowing() async throws {
        try await LocalObjectStoreTests.withStore { try await SealedObjectReadingChecks.windowing($0) }
    }
    @Test func flippedByte() async throws {
        try await LocalObjectStoreTests.withStore { try await SealedObjectReadingChecks.flippedByte($0) }
    }
    @Test func movedFrames() async throws {
        try await LocalObjectStoreTests.withStore { try await SealedObjectReadingChecks.movedFrames($0) }
    }
    @Test func missingObject() async throws {
        try await LocalObjectStoreTests.withStore { try await SealedObjectReadingChecks.missingObject($0) }
    }

    @Test("a read inside a Swift task is refused, naming ObjectReading.run, instead of blocking the pool")
    func readOnCooperativeThreadIsRefused() async throws {
        try await LocalObjectStoreTests.withStore { store in
            let sample = try SealedObjectSample(counts: [3])
            try await sample.put(into: store)
            let source = ObjectByteSource(store: store, key: sample.keys[0], size: try sample.bytes(part: 0).count)
            do throws(SealedFileError) {
                _ = try SealedFileReader(
                    source: source, name: source.key, dataKey: sample.key, expectedTenantID: SealedObjectSample.tenant,
                    expectedRecordingID: SealedObjectSample.recording)
                Issue.record("a read inside a task was not refused")
            } catch {
                #expect(error.code == .ioFailed)
                #expect(error.message.contains("ObjectReading.run"), "\(error)")
            }
            #expect(source.fetchedByteCount == 0)
            // On a thread of its own (not the pool, not a task) the same source reads.
            let key = sample.key
            let plaintext = try await offCooperativePool {
                try SealedFileReader(
                    source: ObjectByteSource(store: store, key: sample.keys[0], size: try sample.bytes(part: 0).count),
                    name: sample.keys[0], dataKey: key, expectedTenantID: SealedObjectSample.tenant,
                    expectedRecordingID: SealedObjectSample.recording
                ).readAll()
            }
            #expect(plaintext == sample.plaintext)
        }
    }

    @Test("more readers at once than reading threads and NIO's pool threads: all finish (no deadlock)")
    func manyReadersAtOnce() async throws {
        try await LocalObjectStoreTests.withStore { store in
            let sample = try SealedObjectSample(counts: [12, 12])
            try await sample.put(into: store)
            let readers = 3 * ObjectReading.threadCount
            let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<readers {
                    group.addTask {
                        try await sample.readAll(
                            sample.keys.map { SealedPartSource.object($0, in: store, windowByteCount: 1000) })
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == readers)
            #expect(results.allSatisfy { $0 == sample.plaintext })
        }
    }

    @Test("an S3 endpoint that does not answer: ioFailed, saying what to check")
    func storeOutage() async throws {
        let port = try UnusedPort()
        let store = try S3ObjectStore(
            .init(endpoint: "http://127.0.0.1:\(port.port)", region: "us-east-1", bucket: "calls", addressing: .path),
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "outage-secret")
        )
        let sample = try SealedObjectSample(counts: [3])
        for part in [SealedPartSource.object(sample.keys[0], in: store), .object(sample.keys[0], in: store, size: 4000)] {
            let failure = await sample.failure([part])
            #expect(failure?.code == .ioFailed)
            #expect(failure?.path == sample.keys[0])
            let message = failure?.message ?? ""
            #expect(message.contains("connection refused"), "\(message)")
            #expect(message.contains("check that the object store is running"), "\(message)")
            #expect(!message.contains("outage-secret") && !message.contains("AKIDEXAMPLE"), "\(message)")
        }
        await store.shutdown()
    }
}

@Suite(
    "Sealed files read from object storage: S3 (moto, signatures checked)",
    .enabled(if: S3TestServer.canRunOrMustFail, Comment(rawValue: S3TestServer.skipReason))
)
struct SealedObjectReadingS3Tests {
    @Test func threeParts() async throws {
        try await S3ObjectStoreTests.withStore { try await SealedObjectReadingChecks.threeParts($0) }
    }
    @Test func windowing() async throws {
        try await S3ObjectStoreTests.withStore { try await SealedObjectReadingChecks.windowing($0) }
    }
    @Test func flippedByte() async throws {
        try await S3ObjectStoreTests.withStore { try await SealedObjectReadingChecks.flippedByte($0) }
    }
    @Test func movedFrames() async throws {
        try await S3ObjectStoreTests.withStore { try await SealedObjectReadingChecks.movedFrames($0) }
    }
    @Test func missingObject() async throws {
        try await S3ObjectStoreTests.withStore { try await SealedObjectReadingChecks.missingObject($0) }
    }
}
