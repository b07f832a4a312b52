import CallVaultCrypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Multipart uploads in a local directory: `ROOT/uploads/ID/key` names the object, each part is a file
/// `ROOT/uploads/ID/NNNNN`; completing writes the parts in order into one temporary file and installs
/// it like a put. S3's rules hold here too (part numbers, 5 MiB parts, tags), so code tested against
/// this store behaves the same against a bucket.
extension LocalObjectStore {
    public func createMultipartUpload(_ key: String) async throws(ObjectStoreError) -> MultipartUpload {
        try ObjectKey.check(key, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> MultipartUpload in
            let upload = MultipartUpload(key: key, id: FileCalls.randomName())
            try FileCalls.makeFolder(store.uploadFolder(upload), location: store.location)
            let temporary = try store.writeTemporary([Array(key.utf8)])
            guard rename(temporary, store.uploadFolder(upload) + "/key") == 0 else {
                unlink(temporary)
                throw store.failure(errno, "start an upload of", key)
            }
            try FileCalls.syncFolder(store.uploadFolder(upload), location: store.location)
            try FileCalls.syncFolder(store.uploads, location: store.location)
            return upload
        }
    }

    public func uploadPart(_ upload: MultipartUpload, number: Int, bytes: [UInt8]) async throws(ObjectStoreError)
        -> UploadedPart
    {
        guard (1...MultipartUpload.maximumPartCount).contains(number) else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): part number \(number) of \(upload.key) is outside 1...\(MultipartUpload.maximumPartCount)"
            )
        }
        let store = self
        return try await offload { () throws(ObjectStoreError) -> UploadedPart in
            try store.checkUpload(upload)
            let temporary = try store.writeTemporary([bytes])
            guard rename(temporary, store.partPath(upload, number)) == 0 else {
                unlink(temporary)
                throw store.failure(errno, "store a part of", upload.key)
            }
            try FileCalls.syncFolder(store.uploadFolder(upload), location: store.location)
            return UploadedPart(number: number, etag: Self.partTag(bytes))
        }
    }

    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws(ObjectStoreError)
        -> ObjectInfo
    {
        let store = self
        return try await offload { () throws(ObjectStoreError) -> ObjectInfo in
            try store.checkUpload(upload)
            try store.checkPartList(parts, of: upload)
            // One part in memory at a time, written into the file that becomes the object.
            let temporary = try store.writeTemporary { (descriptor) throws(ObjectStoreError) in
                for (index, part) in parts.enumerated() {
                    let bytes = try store.readPart(upload, part, isLast: index == parts.count - 1)
                    try FileCalls.writeAll(descriptor, bytes, location: store.location)
                }
            }
            let info = try store.install(temporary, as: upload.key)
            store.removeUpload(upload)
            return info
        }
    }

    public func abortMultipartUpload(_ upload: MultipartUpload) async throws(ObjectStoreError) {
        let store = self
        try await offload { () throws(ObjectStoreError) in
            guard Self.isUploadID(upload.id) else { return }
            store.removeUpload(upload)
        }
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUpload] {
        try ObjectKey.checkPrefix(prefix, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> [MultipartUpload] in
            let ids = (try? FileManager.default.contentsOfDirectory(atPath: store.uploads)) ?? []
            return ids.filter(Self.isUploadID).compactMap { id -> MultipartUpload? in
                guard let data = FileManager.default.contents(atPath: store.uploads + "/" + id + "/key") else {
                    return nil
                }
                let key = String(decoding: data, as: UTF8.self)
                return key.hasPrefix(prefix) ? MultipartUpload(key: key, id: id) : nil
            }
            .sorted { ($0.key, $0.id) < ($1.key, $1.id) }
        }
    }

    // MARK: Helpers

    func uploadFolder(_ upload: MultipartUpload) -> String { uploads + "/" + upload.id }

    func partPath(_ upload: MultipartUpload, _ number: Int) -> String {
        let digits = String(number)
        return uploadFolder(upload) + "/" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// An upload id this store made: 32 hex digits (never a path).
    static func isUploadID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A part's tag: the first half of its SHA-256, in hex.
    static func partTag(_ bytes: [UInt8]) -> String { Hex.encode(Digest.sha256(bytes).prefix(16)) }

    /// Throws `notFound` unless `upload` is in progress for its key.
    func checkUpload(_ upload: MultipartUpload) throws(ObjectStoreError) {
        guard Self.isUploadID(upload.id),
            let data = FileManager.default.contents(atPath: uploadFolder(upload) + "/key"),
            String(decoding: data, as: UTF8.self) == upload.key
        else {
            throw ObjectStoreError(
                .notFound,
                "\(location): no multipart upload \(upload.id) of \(upload.key) (completed, aborted or never begun)",
                serverCode: "NoSuchUpload"
            )
        }
    }

    /// Throws `invalidArgument` unless `parts` is non-empty, in strictly ascending part numbers.
    func checkPartList(_ parts: [UploadedPart], of upload: MultipartUpload) throws(ObjectStoreError) {
        guard !parts.isEmpty else {
            throw ObjectStoreError(.invalidArgument, "\(location): completing \(upload.key) needs at least one part")
        }
        for (previous, next) in zip(parts, parts.dropFirst()) where previous.number >= next.number {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): the parts of \(upload.key) must be listed in ascending part number, without repeats",
                serverCode: "InvalidPartOrder"
            )
        }
    }

    /// The bytes of `part`, checked against its tag and (unless it is the last) the minimum size.
    func readPart(_ upload: MultipartUpload, _ part: UploadedPart, isLast: Bool) throws(ObjectStoreError) -> [UInt8] {
        guard let bytes = FileManager.default.contents(atPath: partPath(upload, part.number)).map(Array.init) else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): part \(part.number) of \(upload.key) was never uploaded",
                serverCode: "InvalidPart"
            )
        }
        guard Self.partTag(bytes) == part.etag else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): part \(part.number) of \(upload.key) has another tag than the one given "
                    + "(it was uploaded again since)",
                serverCode: "InvalidPart"
            )
        }
        guard bytes.count >= MultipartUpload.minimumPartSize || isLast else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): part \(part.number) of \(upload.key) has \(bytes.count) bytes; every part "
                    + "but the last needs at least \(MultipartUpload.minimumPartSize)",
                serverCode: "EntityTooSmall"
            )
        }
        return bytes
    }

    func removeUpload(_ upload: MultipartUpload) {
        let folder = uploadFolder(upload)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            unlink(folder + "/" + name)
        }
        rmdir(folder)
        try? FileCalls.syncFolder(uploads, location: location)
    }
}
