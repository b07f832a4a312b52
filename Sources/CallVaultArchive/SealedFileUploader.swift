public import CallVaultModel
public import CallVaultObjects
public import CallVaultStore
import CallVaultCrypto
import Foundation
public import Logging
import Metrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Moves closed sealed files from this node's spool into the object store, and reconciles what a crash
/// left half-done: `spooled → uploading → stored`, the spool copy deleted only after the stored object
/// verified.
///
/// Each file: the catalog row is moved `spooled → uploading` (a compare-and-set, so one uploader per
/// row), every part is put with `If-None-Match: *` and its SHA-256 (a single PUT up to
/// ``singlePutLimit``, a multipart upload of ``partSize`` parts above, read from the spool a part at a time),
/// each object is looked up again and compared (size; SHA-256 when the store keeps it), the row is moved
/// to `stored`, and only then are the spool copies deleted. A crash at any point leaves the spool copy
/// and a row that is not `stored`, which the next pass picks up: an object that is there already and
/// equal counts as uploaded, a different one is reported and nothing is deleted. A multipart upload
/// a crash left open for the same key is aborted before a new one starts.
///
/// Runs on tasks, never on an event loop (the stores' calls suspend; file reads here are short), a
/// bounded number of files at a time.
public struct SealedFileUploader: Sendable {
    /// Files up to this size go in one PUT; larger ones in a multipart upload.
    public static let singlePutLimit = 16 * 1024 * 1024
    /// The size of each part of a multipart upload (S3's minimum is 5 MiB).
    public static let partSize = 8 * 1024 * 1024

    public let catalog: any CatalogStore
    public let files: SealedFiles
    public let objects: any ObjectStore
    public let logger: Logger
    /// How many times a call that failed `unavailable` (5xx, `SlowDown`, no answer) is tried in all.
    public let attempts: Int
    /// Uploads of recordings still being written (``advanceLiveUploads(node:)``); nil: files are uploaded
    /// only once closed.
    public let live: LiveUploads?

    public init?(
        catalog: any CatalogStore, files: SealedFiles, logger: Logger, attempts: Int = 4, live: LiveUploads? = nil
    ) {
        guard let objects = files.objects else { return nil }
        self.catalog = catalog
        self.files = files
        self.objects = objects
        self.logger = logger
        self.attempts = max(1, attempts)
        self.live = live
    }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        public var uploaded: [String] = []
        public var bytes: Int64 = 0
        /// Rows awaiting upload whose spool copy is not on this node (another node's, or lost).
        public var notHere: [String] = []
        /// Ids whose upload failed this time, with why; the next pass tries again.
        public var failures: [Failure] = []
        /// The spool copies of the failed files: their bytes, and the age of the oldest (by its last write).
        public var backlogBytes: Int64 = 0
        public var oldestBacklogSeconds: Double = 0

        public struct Failure: Sendable, Equatable {
            public let id: String
            public let reason: String
        }

        public init() {}
    }

    /// Uploads every closed file awaiting upload whose spool copy is on this node (at most `limit` rows
    /// looked at, `concurrency` files at a time). Failures are reported, logged, and left for the next
    /// pass; a catalog that cannot be read throws.
    public func uploadPending(limit: Int = 200, concurrency: Int = 4) async throws(CatalogError) -> Report {
        let files = try await catalog.filesAwaitingUpload(limit: limit)
        var report = Report()
        await withTaskGroup(of: (SpooledFile, Result<Outcome, SealedFileUploadError>).self) { group in
            var next = files.startIndex
            while next < files.endIndex && next - files.startIndex < max(1, concurrency) {
                let file = files[next]
                group.addTask { (file, await attempt(file)) }
                next += 1
            }
            while let (file, result) = await group.next() {
                switch result {
                case .success(.uploaded(let bytes)):
                    report.uploaded.append(file.id)
                    report.bytes += bytes
                case .success(.notHere):
                    report.notHere.append(file.id)
                case .success(.takenByAnother):
                    break
                case .failure(let error):
                    report.failures.append(.init(id: file.id, reason: error.message))
                    for part in self.files.spoolParts(path: file.path) {
                        report.backlogBytes += part.bytes
                        report.oldestBacklogSeconds = max(report.oldestBacklogSeconds, Self.age(of: part.path))
                    }
                    logger.warning(
                        "a sealed file could not be uploaded; the next pass retries it",
                        metadata: ["\(file.kind.rawValue)": "\(file.id)", "reason": "\(error.message)"])
                }
                if next < files.endIndex {
                    let file = files[next]
                    group.addTask { (file, await attempt(file)) }
                    next += 1
                }
            }
        }
        return report
    }

    /// ``upload(_:)`` as a result, for a task group; each file's upload time goes to
    /// `callvault_objects_upload_seconds`.
    func attempt(_ file: SpooledFile) async -> Result<Outcome, SealedFileUploadError> {
        let started = ContinuousClock.now
        do throws(SealedFileUploadError) {
            let outcome = try await upload(file)
            if case .uploaded = outcome {
                let elapsed = ContinuousClock.now - started
                Self.uploadLatency.recordNanoseconds(
                    elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            }
            return .success(outcome)
        } catch {
            return .failure(error)
        }
    }

    static let uploadLatency = Metrics.Timer(label: "callvault_objects_upload_seconds")

    /// Seconds since `path` was last written (0 when it cannot be read).
    static func age(of path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return max(0, Date().timeIntervalSince1970 - Double(info.st_mtim.tv_sec))
    }

    /// What uploading one file came to.
    public enum Outcome: Sendable, Equatable {
        /// Stored and verified; the spool copy is gone. The bytes sent (0 when it was there already).
        case uploaded(bytes: Int64)
        /// This node has no spool copy and the store has no object: another node's file.
        case notHere
        /// Another uploader moved the row first (or it was shredded meanwhile).
        case takenByAnother
    }

    /// Uploads one file (see the type's doc for the steps).
    public func upload(_ file: SpooledFile) async throws(SealedFileUploadError) -> Outcome {
        let parts = files.spoolParts(path: file.path)
        guard !parts.isEmpty else {
            // No spool copy: an upload that finished before a crash (the object is there) is recorded.
            guard file.storage == .uploading, (try? await objects.head(file.path)) != nil else { return .notHere }
            guard try await move(file, to: .stored, from: [.uploading]) else { return .takenByAnother }
            return .uploaded(bytes: 0)
        }
        if file.storage == .spooled {
            guard try await move(file, to: .uploading, from: [.spooled]) else { return .takenByAnother }
        }
        var sent: Int64 = 0
        for part in parts {
            if parts.count == 1, let finished = try await finishLiveUpload(part.path, as: part.key) {
                sent += finished
            } else {
                sent += try await put(part.path, as: part.key)
            }
        }
        guard try await move(file, to: .stored, from: [.uploading]) else {
            // Shredded while uploading: the key is gone; leave no copy of the file anywhere.
            for part in parts { try? await objects.delete(part.key) }
            removeSpool(parts.map(\.path))
            return .takenByAnother
        }
        removeSpool(parts.map(\.path))
        return .uploaded(bytes: sent)
    }

    /// Puts one spool file as `key` and verifies it; returns the bytes sent (0 when an equal object
    /// was there already).
    func put(_ path: String, as key: String) async throws(SealedFileUploadError) -> Int64 {
        let (size, sha256) = try Self.measure(path)
        if size > Self.singlePutLimit {
            if let existing = try await existing(key) {
                try verify(existing, key: key, size: size, sha256: sha256)
                return 0
            }
            try await putInParts(path, as: key, size: size)
        } else {
            let bytes = try Self.readSpool(path, offset: 0, count: size)
            do {
                _ = try await retrying("store \(key)") { () async throws(ObjectStoreError) in
                    try await objects.put(key, bytes: bytes, options: PutOptions(onlyIfAbsent: true, sha256: sha256))
                }
            } catch where error.code == .alreadyExists {
                try verify(try await head(key), key: key, size: size, sha256: sha256)
                return 0
            } catch {
                throw SealedFileUploadError(error.message)
            }
        }
        try verify(try await head(key), key: key, size: size, sha256: sha256)
        return Int64(size)
    }

    /// Sends the parts of open recordings' files that grew by a whole part since the last call: a recording
    /// of `node`, still being written and spooled, whose durable bytes (what the flush group synced, from
    /// the catalog) passed ``singlePutLimit``. Returns the parts sent. Failures are logged; the upload is
    /// then dropped (aborted) and the file goes whole once closed.
    public func advanceLiveUploads(node: String) async -> Int {
        guard let live else { return 0 }
        let open: [RecordingRecord]
        do { open = try await catalog.recordingsLeftOpen() } catch {
            logger.warning("cannot list open recordings for their uploads", metadata: ["reason": "\(error.message)"])
            return 0
        }
        var sent = 0
        for recording in open where recording.node == node && recording.storage == .spooled {
            let spool = files.spoolParts(path: recording.path)
            // A recording continued in a later part after a crash goes whole, once closed.
            guard spool.count == 1, let file = spool.first else { continue }
            let durable = Int(min(file.bytes, recording.bytes))
            let existing = await live.upload(for: file.key)
            guard existing != nil || durable >= Self.singlePutLimit else { continue }
            do throws(SealedFileUploadError) {
                var upload: LiveUploads.Upload
                if let existing {
                    upload = existing
                } else {
                    try await abortStale(file.key)
                    do {
                        let begun = try await retrying("start uploading \(file.key)") { () async throws(ObjectStoreError) in
                            try await objects.createMultipartUpload(file.key)
                        }
                        upload = LiveUploads.Upload(upload: begun, parts: [], offset: 0)
                    } catch {
                        throw SealedFileUploadError(error.message)
                    }
                }
                // Whole parts only: what is durable, rounded down to a part. (A failure drops the upload.)
                let before = upload.parts.count
                _ = try await sendParts(file.path, of: &upload, until: durable - durable % Self.partSize)
                sent += upload.parts.count - before
                await live.set(upload, for: file.key)
            } catch {
                logger.warning(
                    "an upload of a recording still being written failed; it is uploaded whole once closed",
                    metadata: ["recording": "\(recording.id)", "reason": "\(error.message)"])
                if let dropped = await live.remove(file.key) { try? await objects.abortMultipartUpload(dropped.upload) }
            }
        }
        return sent
    }

    /// Completes the live upload of `key`, if there is one: sends the rest of the closed file (the last part
    /// may be small) and verifies the size. Returns the bytes sent now, or nil when there is no live upload
    /// (or it failed and was dropped: the caller then puts the file whole).
    func finishLiveUpload(_ path: String, as key: String) async throws(SealedFileUploadError) -> Int64? {
        guard let live, let begun = await live.remove(key) else { return nil }
        var upload = begun
        do throws(SealedFileUploadError) {
            let size = Int(RecordingFiles.size(of: path))
            let sent = try await sendParts(path, of: &upload, until: size)
            try await complete(upload)
            let info = try await head(key)
            guard info.size == size else {
                throw SealedFileUploadError(
                    "\(objects.location): the object \(key) has \(info.size) bytes after its upload, the spool copy \(size)")
            }
            return Int64(sent)
        } catch {
            logger.warning(
                "completing an upload begun during the call failed; the file is put whole",
                metadata: ["key": "\(key)", "reason": "\(error.message)"])
            try? await objects.abortMultipartUpload(upload.upload)
            return nil
        }
    }

    /// Sends bytes `offset ..< offset + count` of the spool file as the next part of `upload`.
    func sendPart(_ path: String, of upload: LiveUploads.Upload, count: Int) async throws(SealedFileUploadError) -> UploadedPart {
        let bytes = try Self.readSpool(path, offset: upload.offset, count: count)
        let number = upload.parts.count + 1
        do {
            return try await retrying("send part \(number) of \(upload.upload.key)") { () async throws(ObjectStoreError) in
                try await objects.uploadPart(upload.upload, number: number, bytes: bytes)
            }
        } catch {
            throw SealedFileUploadError(error.message)
        }
    }

    /// Aborts the multipart uploads of exactly `key` that are open (what a crash left).
    func abortStale(_ key: String) async throws(SealedFileUploadError) {
        let stale: [MultipartUpload]
        do { stale = try await objects.listMultipartUploads(prefix: key) } catch {
            throw SealedFileUploadError(error.message)
        }
        for upload in stale where upload.key == key { try? await objects.abortMultipartUpload(upload) }
    }

    /// A multipart upload, read from the spool one part at a time; an upload a crash left open for the
    /// same key is aborted first, and this one is aborted if it fails.
    func putInParts(_ path: String, as key: String, size: Int) async throws(SealedFileUploadError) {
        try await abortStale(key)
        let upload: MultipartUpload
        do {
            upload = try await retrying("start uploading \(key)") { () async throws(ObjectStoreError) in
                try await objects.createMultipartUpload(key)
            }
        } catch {
            throw SealedFileUploadError(error.message)
        }
        var sending = LiveUploads.Upload(upload: upload, parts: [], offset: 0)
        do throws(SealedFileUploadError) {
            _ = try await sendParts(path, of: &sending, until: size)
            try await complete(sending)
        } catch {
            try? await objects.abortMultipartUpload(upload)
            throw error
        }
    }

    /// Sends the spool file's bytes from `upload.offset` up to `end` as the next parts (each
    /// ``partSize`` but the last); returns the bytes sent.
    func sendParts(_ path: String, of upload: inout LiveUploads.Upload, until end: Int) async throws(SealedFileUploadError)
        -> Int
    {
        let start = upload.offset
        while upload.offset < end {
            let count = min(Self.partSize, end - upload.offset)
            upload.parts.append(try await sendPart(path, of: upload, count: count))
            upload.offset += count
            Failpoint.uploadPartSent.hit()
        }
        return upload.offset - start
    }

    /// Joins the parts sent into the object.
    func complete(_ upload: LiveUploads.Upload) async throws(SealedFileUploadError) {
        do {
            _ = try await retrying("complete \(upload.upload.key)") { () async throws(ObjectStoreError) in
                try await objects.completeMultipartUpload(upload.upload, parts: upload.parts)
            }
        } catch {
            throw SealedFileUploadError(error.message)
        }
    }

    func existing(_ key: String) async throws(SealedFileUploadError) -> ObjectInfo? {
        do { return try await objects.head(key) } catch where error.code == .notFound { return nil } catch {
            throw SealedFileUploadError(error.message)
        }
    }

    func head(_ key: String) async throws(SealedFileUploadError) -> ObjectInfo {
        do {
            return try await retrying("look up \(key)") { () async throws(ObjectStoreError) in try await objects.head(key) }
        } catch {
            throw SealedFileUploadError(error.message)
        }
    }

    /// The stored object must be the spool file: same size, and same SHA-256 when the store keeps one.
    func verify(_ info: ObjectInfo, key: String, size: Int, sha256: [UInt8]) throws(SealedFileUploadError) {
        guard info.size == size, info.sha256 == nil || info.sha256 == sha256 else {
            throw SealedFileUploadError(
                "\(objects.location): the object \(key) is there but differs from the spool copy "
                    + "(\(info.size) bytes stored, \(size) in the spool): the spool copy is kept; check the bucket "
                    + "for another writer under this prefix")
        }
    }

    func move(_ file: SpooledFile, to: SealedStorage, from: Set<SealedStorage>) async throws(SealedFileUploadError) -> Bool {
        do { return try await catalog.setStorage(of: file.kind, id: file.id, to: to, from: from) } catch {
            throw SealedFileUploadError("cannot record the upload of \(file.kind.rawValue) \(file.id): \(error.message)")
        }
    }

    /// Deletes the spool copies and makes the deletion durable.
    func removeSpool(_ paths: [String]) {
        for path in paths { unlink(path) }
        if let folder = paths.first.map({ String($0[..<($0.lastIndex(of: "/") ?? $0.startIndex)]) }), !folder.isEmpty {
            let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                _ = fsync(fd)
                close(fd)
            }
        }
    }

    /// Calls `body`, again after a pause (doubling, with jitter) while it fails `unavailable`.
    func retrying<T: Sendable>(_ what: String, _ body: () async throws(ObjectStoreError) -> T) async throws(ObjectStoreError)
        -> T
    {
        var pause = 0.2
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch where error.code == .unavailable && attempt < attempts {
                attempt += 1
                try? await Task.sleep(for: .seconds(pause * Double.random(in: 0.5...1.5)))
                pause *= 2
            }
        }
    }

    /// The size and SHA-256 of a spool file, read a megabyte at a time.
    static func measure(_ path: String) throws(SealedFileUploadError) -> (size: Int, sha256: [UInt8]) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SealedFileUploadError("cannot open the spool file \(path): \(errnoText())") }
        defer { close(fd) }
        let hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SealedFileUploadError("cannot read the spool file \(path): \(errnoText())")
            }
            if got == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            size += got
        }
        return (size, hasher.finalize())
    }

    /// `count` bytes of a spool file from `offset`.
    static func readSpool(_ path: String, offset: Int, count: Int) throws(SealedFileUploadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SealedFileUploadError("cannot open the spool file \(path): \(errnoText())") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw SealedFileUploadError(
                    "cannot read the spool file \(path): " + (got == 0 ? "it got shorter while uploading" : errnoText()))
            }
            done += got
        }
        return bytes
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Uploading a sealed file failed; the message names the file or object and the store, never bytes.
public struct SealedFileUploadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
