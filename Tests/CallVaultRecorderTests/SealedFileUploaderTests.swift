import CallVaultArchive
import CallVaultModel
import CallVaultObjects
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The uploader's promises under failure, on a real SQLite catalog and a local object store wrapped to
/// fail on purpose: `SlowDown` storms are ridden out, a failed upload keeps its spool copy and is
/// finished by the next pass, a multipart upload a crash left open is aborted and redone, an object that
/// is already there counts only when it is equal.
@Suite("Sealed file uploader: spool to store under failure")
struct SealedFileUploaderTests {
    /// A store that answers `unavailable` (S3's `SlowDown`) to the next `failures` writes, then works.
    final class SlowDownStore: ObjectStore, Sendable {
        let inner: LocalObjectStore
        let failures = Mutex(0)
        let writes = Mutex(0)
        var location: String { inner.location }

        init(_ inner: LocalObjectStore) { self.inner = inner }

        func failNext(_ count: Int) { failures.withLock { $0 = count } }

        func write() throws(ObjectStoreError) {
            writes.withLock { $0 += 1 }
            let fail = failures.withLock { count -> Bool in
                guard count > 0 else { return false }
                count -= 1
                return true
            }
            if fail { throw ObjectStoreError(.unavailable, "\(location): SlowDown (test)", serverCode: "SlowDown") }
        }

        func put(_ key: String, bytes: [UInt8], options: PutOptions) async throws(ObjectStoreError) -> ObjectInfo {
            try write()
            return try await inner.put(key, bytes: bytes, options: options)
        }
        func createMultipartUpload(_ key: String) async throws(ObjectStoreError) -> MultipartUpload {
            try await inner.createMultipartUpload(key)
        }
        func uploadPart(_ upload: MultipartUpload, number: Int, bytes: [UInt8]) async throws(ObjectStoreError) -> UploadedPart {
            try write()
            return try await inner.uploadPart(upload, number: number, bytes: bytes)
        }
        func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws(ObjectStoreError)
            -> ObjectInfo
        {
            try await inner.completeMultipartUpload(upload, parts: parts)
        }
        func abortMultipartUpload(_ upload: MultipartUpload) async throws(ObjectStoreError) {
            try await inner.abortMultipartUpload(upload)
        }
        func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUpload] {
            try await inner.listMultipartUploads(prefix: prefix)
        }
        func get(_ key: String, range: ByteRange?) async throws(ObjectStoreError) -> [UInt8] {
            try await inner.get(key, range: range)
        }
        func head(_ key: String) async throws(ObjectStoreError) -> ObjectInfo { try await inner.head(key) }
        func delete(_ key: String) async throws(ObjectStoreError) { try await inner.delete(key) }
        func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] { try await inner.list(prefix: prefix) }
    }

    /// A data directory, a bucket-like store and one closed recording whose spool file holds `bytes`.
    struct Fixture {
        let data: TestDataDirectory
        let store: SlowDownStore
        let recording: RecordingRecord
        let spoolPath: String
        let bytes: [UInt8]

        init(_ label: String, size: Int) throws {
            data = try TestDataDirectory(label)
            store = SlowDownStore(try LocalObjectStore(root: data.root + "/bucket"))
            let (tenant, _) = try data.addTenant("acme")
            let call = try data.catalog.registerCall(tenantID: tenant.id, externalID: "CA-\(label)")
            let path = "recordings/\(tenant.id)/2026-12-06/\(UUID().uuidString.lowercased()).cvr"
            recording = try data.catalog.createRecording(
                callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: path, storage: .spooled)
            try data.catalog.finishRecording(id: recording.id, state: .complete, durationMs: 1000, bytes: Int64(size))
            spoolPath = data.directory.resolve(path)
            try FileManager.default.createDirectory(
                atPath: (spoolPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var random = SeededRandom(seed: UInt64(size))
            bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(FileManager.default.createFile(atPath: spoolPath, contents: Data(bytes)))
        }

        var uploader: SealedFileUploader {
            SealedFileUploader(
                catalog: data.catalog, files: SealedFiles(dataDirectory: data.directory, objects: store),
                logger: Logger(label: "test"))!
        }

        var storage: SealedStorage? { (try? data.catalog.recording(id: recording.id))?.storage }
        var spoolExists: Bool { FileManager.default.fileExists(atPath: spoolPath) }
    }

    @Test func aSlowDownStormIsRiddenOutAndTheSpoolCopyGoesOnlyAfterTheObjectVerified() async throws {
        let fixture = try Fixture("slowdown", size: 300_000)
        fixture.store.failNext(3)  // fewer than the four attempts a call gets
        let report = try await fixture.uploader.uploadPending()
        #expect(report.uploaded == [fixture.recording.id] && report.failures.isEmpty, "\(report)")
        #expect(report.bytes == 300_000)
        #expect(fixture.storage == .stored && !fixture.spoolExists)
        #expect(try await fixture.store.get(fixture.recording.path) == fixture.bytes)
        #expect(fixture.store.writes.withLock { $0 } == 4)
    }

    @Test func aStormLongerThanTheRetriesKeepsTheSpoolCopyAndTheNextPassFinishes() async throws {
        let fixture = try Fixture("storm", size: 50_000)
        fixture.store.failNext(10)
        let failed = try await fixture.uploader.uploadPending()
        #expect(failed.uploaded.isEmpty && failed.failures.map(\.id) == [fixture.recording.id], "\(failed)")
        #expect(failed.failures.first?.reason.contains("SlowDown") == true, "\(failed)")
        #expect(fixture.storage == .uploading && fixture.spoolExists, "a failed upload lost its spool copy")
        #expect(try await fixture.store.list(prefix: "recordings/").isEmpty)

        fixture.store.failNext(0)
        let finished = try await fixture.uploader.uploadPending()
        #expect(finished.uploaded == [fixture.recording.id], "\(finished)")
        #expect(fixture.storage == .stored && !fixture.spoolExists)
        #expect(try await fixture.store.get(fixture.recording.path) == fixture.bytes)
    }

    @Test func aMultipartUploadACrashLeftOpenIsAbortedAndTheFileUploadedAgain() async throws {
        let size = SealedFileUploader.singlePutLimit + 3 * 1024 * 1024
        let fixture = try Fixture("multipart", size: size)
        // What `kill -9` mid-upload leaves: the row `uploading`, the spool copy, an open upload with one part.
        #expect(try fixture.data.catalog.setStorage(of: .recording, id: fixture.recording.id, to: .uploading, from: [.spooled]))
        let stale = try await fixture.store.createMultipartUpload(fixture.recording.path)
        _ = try await fixture.store.uploadPart(stale, number: 1, bytes: Array(fixture.bytes.prefix(SealedFileUploader.partSize)))

        let report = try await fixture.uploader.uploadPending()
        #expect(report.uploaded == [fixture.recording.id] && report.bytes == Int64(size), "\(report)")
        #expect(try await fixture.store.listMultipartUploads(prefix: "recordings/").isEmpty, "the stale upload is still open")
        #expect(try await fixture.store.head(fixture.recording.path).size == size)
        #expect(try await fixture.store.get(fixture.recording.path) == fixture.bytes)
        #expect(fixture.storage == .stored && !fixture.spoolExists)
    }

    @Test func anObjectAlreadyThereCountsOnlyWhenItIsEqual() async throws {
        // An upload that finished just before a crash: the same bytes are there, the row still `uploading`.
        let equal = try Fixture("equal", size: 20_000)
        #expect(try equal.data.catalog.setStorage(of: .recording, id: equal.recording.id, to: .uploading, from: [.spooled]))
        _ = try await equal.store.put(equal.recording.path, bytes: equal.bytes)
        let report = try await equal.uploader.uploadPending()
        #expect(report.uploaded == [equal.recording.id] && report.bytes == 0, "\(report)")
        #expect(equal.storage == .stored && !equal.spoolExists)

        // Another writer's object under the key: reported, and the spool copy is kept.
        let other = try Fixture("other", size: 20_000)
        _ = try await other.store.put(other.recording.path, bytes: Array(other.bytes.prefix(10_000)))
        let refused = try await other.uploader.uploadPending()
        #expect(refused.uploaded.isEmpty, "\(refused)")
        #expect(refused.failures.first?.reason.contains("differs from the spool copy") == true, "\(refused)")
        #expect(other.spoolExists && other.storage == .uploading)
    }

    @Test func aLongCallsFileGoesUpAPartAtATimeWhileItIsWrittenAndClosingSendsOnlyTheRest() async throws {
        let data = try TestDataDirectory("live")
        let store = SlowDownStore(try LocalObjectStore(root: data.root + "/bucket"))
        let (tenant, _) = try data.addTenant("acme")
        let call = try data.catalog.registerCall(tenantID: tenant.id, externalID: "CA-live")
        let path = "recordings/\(tenant.id)/2026-12-06/\(UUID().uuidString.lowercased()).cvr"
        let recording = try data.catalog.createRecording(
            callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: path, node: "serve.live1",
            storage: .spooled)
        let other = try data.catalog.createRecording(
            callID: call.id, track: .bot, codec: .pcm16, sampleRate: 8000, path: path + ".other.cvr", node: "serve.else",
            storage: .spooled)
        let spool = data.directory.resolve(path)
        try FileManager.default.createDirectory(
            atPath: (spool as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var random = SeededRandom(seed: 99)
        var bytes = random.bytes(SealedFileUploader.singlePutLimit + 5 * 1024 * 1024)  // 21 MiB written so far
        #expect(FileManager.default.createFile(atPath: spool, contents: Data(bytes)))
        #expect(FileManager.default.createFile(atPath: data.directory.resolve(other.path), contents: Data(bytes)))
        let uploader = try #require(
            SealedFileUploader(
                catalog: data.catalog, files: SealedFiles(dataDirectory: data.directory, objects: store),
                logger: Logger(label: "test"), live: LiveUploads()))

        // Below the single-put limit of durable bytes, nothing starts; past it, whole parts of what is durable.
        _ = try data.catalog.updateRecordingProgress([.init(recordingID: recording.id, durationMs: 60_000, bytes: 1_000_000)])
        #expect(await uploader.advanceLiveUploads(node: "serve.live1") == 0)
        _ = try data.catalog.updateRecordingProgress([
            .init(recordingID: recording.id, durationMs: 600_000, bytes: Int64(bytes.count)),
            .init(recordingID: other.id, durationMs: 600_000, bytes: Int64(bytes.count)),
        ])
        #expect(await uploader.advanceLiveUploads(node: "serve.live1") == 2, "two 8 MiB parts of 21 MiB durable")
        #expect(await uploader.advanceLiveUploads(node: "serve.live1") == 0, "nothing new is durable")
        #expect(try await store.listMultipartUploads(prefix: "recordings/").map(\.key) == [path], "another node's file was touched")
        #expect(fixtureStorage(data, recording.id) == .spooled)

        // The call goes on, then ends: closing sends only the rest and completes the upload.
        bytes += random.bytes(3 * 1024 * 1024)
        let handle = try #require(FileHandle(forWritingAtPath: spool))
        handle.seekToEndOfFile()
        handle.write(Data(bytes.suffix(3 * 1024 * 1024)))
        try handle.close()
        try data.catalog.finishRecording(id: recording.id, state: .complete, durationMs: 700_000, bytes: Int64(bytes.count))
        let writesBefore = store.writes.withLock { $0 }
        let report = try await uploader.uploadPending()
        #expect(report.uploaded.contains(recording.id), "\(report)")
        #expect(report.bytes == Int64(bytes.count - 2 * SealedFileUploader.partSize), "only the rest was sent at the end")
        #expect(store.writes.withLock { $0 } - writesBefore == 1, "one last part")
        #expect(try await store.get(path) == bytes)
        #expect(try await store.listMultipartUploads(prefix: "recordings/").isEmpty)
        #expect(fixtureStorage(data, recording.id) == .stored && !FileManager.default.fileExists(atPath: spool))
    }

    func fixtureStorage(_ data: TestDataDirectory, _ id: String) -> SealedStorage? {
        (try? data.catalog.recording(id: id))?.storage
    }

    @Test func aFileOfAnotherNodeIsLeftAlone() async throws {
        let fixture = try Fixture("elsewhere", size: 1_000)
        try FileManager.default.removeItem(atPath: fixture.spoolPath)
        let report = try await fixture.uploader.uploadPending()
        #expect(report.notHere == [fixture.recording.id] && report.uploaded.isEmpty, "\(report)")
        #expect(fixture.storage == .spooled, "a row moved without its file")
    }
}
