public import Foundation

/// Where sealed files live: a local directory or a bucket reached over the S3 API.
///
/// Objects are whole files put once (``put(_:bytes:)``) or in parts (the multipart calls), read whole
/// or by byte range, listed by key prefix and deleted with every version. The sealed files are
/// encrypted before they get here, so a store never sees plaintext. Every call may suspend for I/O:
/// call them from tasks, never from a SwiftNIO event loop.
///
/// Keys are checked the same way by every store (``ObjectKey``), so a key one store takes, every store
/// takes. Errors are ``ObjectStoreError``s that name the store and the key, never credentials.
public protocol ObjectStore: Sendable {
    /// Where the store is, for messages: `s3://BUCKET/PREFIX` or the directory's path.
    var location: String { get }

    /// Stores `bytes` as the object `key`, replacing any object of that key.
    func put(_ key: String, bytes: [UInt8]) async throws(ObjectStoreError) -> ObjectInfo

    /// Starts a multipart upload of `key`; its parts are sent with ``uploadPart(_:number:bytes:)``.
    func createMultipartUpload(_ key: String) async throws(ObjectStoreError) -> MultipartUpload

    /// Sends part `number` (1...10,000) of `upload`. Every part but the last must be at least
    /// ``MultipartUpload/minimumPartSize`` bytes (S3's rule; the local store enforces it too).
    func uploadPart(_ upload: MultipartUpload, number: Int, bytes: [UInt8]) async throws(ObjectStoreError)
        -> UploadedPart

    /// Joins `parts` (in ascending part number) into the object; the object appears only now.
    func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws(ObjectStoreError)
        -> ObjectInfo

    /// Drops `upload` and the parts sent so far. Aborting an upload that is gone is not an error.
    func abortMultipartUpload(_ upload: MultipartUpload) async throws(ObjectStoreError)

    /// The multipart uploads begun under `prefix` and neither completed nor aborted (what a reconciler
    /// aborts or finishes after a crash).
    func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUpload]

    /// The bytes of `key`, or of `range` of them. `range` must lie inside the object (``ByteRange``);
    /// otherwise `invalidRange`, naming the object's size.
    func get(_ key: String, range: ByteRange?) async throws(ObjectStoreError) -> [UInt8]

    /// The size and tag of `key`; `notFound` when there is none.
    func head(_ key: String) async throws(ObjectStoreError) -> ObjectInfo

    /// Deletes `key` and, in a versioned bucket, every version and delete marker of it, so no copy
    /// remains in the store. Deleting a key that is not there is not an error (sweeps retry).
    func delete(_ key: String) async throws(ObjectStoreError)

    /// Every object whose key starts with `prefix` (`""`: all), in ascending key order.
    func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo]
}

extension ObjectStore {
    /// The whole object `key`.
    public func get(_ key: String) async throws(ObjectStoreError) -> [UInt8] { try await get(key, range: nil) }
}

/// What a store says about one object.
public struct ObjectInfo: Sendable, Equatable {
    public let key: String
    /// Bytes.
    public let size: Int
    /// An opaque tag that changes when the content does (S3's ETag, quotes removed).
    public let etag: String
    public let lastModified: Date?

    public init(key: String, size: Int, etag: String, lastModified: Date?) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// A multipart upload in progress.
public struct MultipartUpload: Sendable, Equatable, Hashable {
    /// The smallest part but the last: 5 MiB (S3's rule).
    public static let minimumPartSize = 5 * 1024 * 1024
    /// The most parts one upload may have.
    public static let maximumPartCount = 10_000

    public let key: String
    /// The store's id for the upload.
    public let id: String

    public init(key: String, id: String) {
        self.key = key
        self.id = id
    }
}

/// A part sent, as completing the upload needs it.
public struct UploadedPart: Sendable, Equatable {
    public let number: Int
    public let etag: String

    public init(number: Int, etag: String) {
        self.number = number
        self.etag = etag
    }
}

/// Bytes `offset ..< offset + length` of an object; `length` at least 1.
public struct ByteRange: Sendable, Equatable {
    public let offset: Int
    public let length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// The last byte's offset.
    public var last: Int { offset + length - 1 }

    /// Throws `invalidRange` unless the range is non-empty and lies inside an object of `size` bytes.
    func check(objectSize size: Int, key: String, in location: String) throws(ObjectStoreError) {
        guard offset >= 0, length >= 1 else {
            throw ObjectStoreError(
                .invalidRange,
                "\(location): a byte range needs an offset ≥ 0 and a length ≥ 1, not \(offset)+\(length)"
            )
        }
        guard offset < size, length <= size - offset else {
            throw ObjectStoreError(
                .invalidRange,
                "\(location): bytes \(offset)...\(offset &+ length &- 1) of \(key) were asked for, "
                    + "but the object has \(size) bytes"
            )
        }
    }
}

/// The rules every store applies to keys, so that one store's keys are valid in every other.
public enum ObjectKey {
    /// The longest key, in UTF-8 bytes (S3's limit).
    public static let maximumByteCount = 1024

    /// Throws `invalidKey` with the reason unless `key` is 1...1024 UTF-8 bytes of `/`-separated
    /// segments, none empty, `.` or `..`, without a leading `/` or a control character.
    public static func check(_ key: String, in location: String) throws(ObjectStoreError) {
        func refuse(_ reason: String) -> ObjectStoreError {
            ObjectStoreError(.invalidKey, "\(location): \(reason); keys are like tenant/2026/05/recording.cvr")
        }
        guard !key.isEmpty else { throw refuse("the object key is empty") }
        guard key.utf8.count <= maximumByteCount else {
            throw refuse("an object key of \(key.utf8.count) bytes is longer than \(maximumByteCount)")
        }
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw refuse("the object key holds a control character")
        }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else {
                throw refuse("the object key \(key) has an empty segment (a leading, trailing or double /)")
            }
            guard segment != ".", segment != ".." else { throw refuse("the object key \(key) has a . or .. segment") }
        }
    }

    /// Throws `invalidKey` for a prefix no key could start with (a leading `/`, a control character,
    /// more than 1024 bytes).
    static func checkPrefix(_ prefix: String, in location: String) throws(ObjectStoreError) {
        guard !prefix.hasPrefix("/"), prefix.utf8.count <= maximumByteCount,
            !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw ObjectStoreError(
                .invalidKey,
                "\(location): no key can start with the prefix given (a leading /, a control character or too long)"
            )
        }
    }
}
