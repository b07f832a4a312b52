import CallVaultCrypto
import Foundation
internal import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Objects as files under a root directory: the embedded default, and the reference the S3 store is
/// tested against.
///
/// Layout: `ROOT/objects/KEY` (the key's `/` are folders), `ROOT/uploads/ID/` (a multipart upload's
/// key and parts), `ROOT/tmp/` (files being written). Folders are made 0700 and files 0600. Every write
/// goes to a temporary file that is `fsync`ed, renamed over the object and made durable by an `fsync`
/// of its folder, so a reader (or a crash) sees the old object or the new one, never a part.
///
/// A file system cannot hold both `a` and `a/b` as files, which S3 can: putting one when the other
/// exists fails `invalidKey`. The blocking file calls run on NIO's thread pool, off the caller's task.
public struct LocalObjectStore: ObjectStore {
    public let root: String
    public var location: String { root }

    var objects: String { root + "/objects" }
    var uploads: String { root + "/uploads" }
    var temporary: String { root + "/tmp" }

    /// A store in `root`, made (0700) with its folders if missing. Throws `io` when it cannot be made.
    public init(root: String) throws(ObjectStoreError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        for folder in [self.root, objects, uploads, temporary] {
            try FileCalls.makeFolder(folder, location: self.root)
        }
    }

    public func put(_ key: String, bytes: [UInt8]) async throws(ObjectStoreError) -> ObjectInfo {
        try ObjectKey.check(key, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> ObjectInfo in
            let temporary = try store.writeTemporary([bytes])
            return try store.install(temporary, as: key)
        }
    }

    public func get(_ key: String, range: ByteRange?) async throws(ObjectStoreError) -> [UInt8] {
        try ObjectKey.check(key, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> [UInt8] in
            let path = store.objects + "/" + key
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { throw store.failure(errno, "read", key) }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw store.failure(errno, "read", key) }
            guard (status.st_mode & S_IFMT) == S_IFREG else { throw store.notFound(key) }
            let size = Int(status.st_size)
            let wanted = range ?? ByteRange(offset: 0, length: size)
            if let range { try range.check(objectSize: size, key: key, in: store.location) }
            var bytes = [UInt8](repeating: 0, count: wanted.length)
            var done = 0
            while done < wanted.length {
                let count = bytes.withUnsafeMutableBytes {
                    pread(descriptor, $0.baseAddress! + done, wanted.length - done, off_t(wanted.offset + done))
                }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw count == 0
                        ? ObjectStoreError(.io, "\(store.location): \(key) got shorter while it was read")
                        : store.failure(errno, "read", key)
                }
                done += count
            }
            return bytes
        }
    }

    public func head(_ key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try ObjectKey.check(key, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> ObjectInfo in try store.info(key) }
    }

    public func delete(_ key: String) async throws(ObjectStoreError) {
        try ObjectKey.check(key, in: location)
        let store = self
        try await offload { () throws(ObjectStoreError) in
            let path = store.objects + "/" + key
            var status = stat()
            if lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return }  // a folder of other keys
            guard unlink(path) == 0 || errno == ENOENT else { throw store.failure(errno, "delete", key) }
            // Drop the folders the key leaves empty, so listings and the tree stay clean.
            var folder = (path as NSString).deletingLastPathComponent
            while folder.count > store.objects.count, rmdir(folder) == 0 {
                folder = (folder as NSString).deletingLastPathComponent
            }
            try FileCalls.syncFolder(folder, location: store.location)
        }
    }

    public func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] {
        try ObjectKey.checkPrefix(prefix, in: location)
        let store = self
        return try await offload { () throws(ObjectStoreError) -> [ObjectInfo] in
            guard let walker = FileManager.default.enumerator(atPath: store.objects) else {
                throw ObjectStoreError(.io, "\(store.location): cannot list the folder \(store.objects)")
            }
            var keys: [String] = []
            while let relative = walker.nextObject() as? String {
                guard relative.hasPrefix(prefix) || prefix.hasPrefix(relative + "/") else {
                    if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory {
                        walker.skipDescendants()
                    }
                    continue
                }
                if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeRegular, relative.hasPrefix(prefix) {
                    keys.append(relative)
                }
            }
            keys.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            var found: [ObjectInfo] = []
            for key in keys {
                do throws(ObjectStoreError) {
                    found.append(try store.info(key))
                } catch  where error.code == .notFound {
                    continue  // deleted while we listed
                }
            }
            return found
        }
    }

    // MARK: Files

    /// What stat says about the object `key`.
    func info(_ key: String) throws(ObjectStoreError) -> ObjectInfo {
        var status = stat()
        guard lstat(objects + "/" + key, &status) == 0 else { throw failure(errno, "look up", key) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw notFound(key) }
        #if canImport(Darwin)
            let modified = status.st_mtimespec
        #else
            let modified = status.st_mtim
        #endif
        // The file's identity and change time: a new tag whenever a put or a completion replaces it.
        let etag = Hex.encode(
            Digest.sha256(
                "\(status.st_ino):\(status.st_size):\(modified.tv_sec):\(modified.tv_nsec)".utf8
            ).prefix(16)
        )
        return ObjectInfo(
            key: key,
            size: Int(status.st_size),
            etag: etag,
            lastModified: Date(
                timeIntervalSince1970: TimeInterval(modified.tv_sec) + TimeInterval(modified.tv_nsec) / 1e9
            )
        )
    }

    /// Writes `chunks` to a new 0600 file in `tmp/`, `fsync`ed; returns its path.
    func writeTemporary(_ chunks: [[UInt8]]) throws(ObjectStoreError) -> String {
        try writeTemporary { (descriptor) throws(ObjectStoreError) in
            for chunk in chunks { try FileCalls.writeAll(descriptor, chunk, location: location) }
        }
    }

    /// A new 0600 file in `tmp/` that `fill` writes to, `fsync`ed; returns its path. The file is removed
    /// if `fill` throws.
    func writeTemporary(filling fill: (Int32) throws(ObjectStoreError) -> Void) throws(ObjectStoreError) -> String {
        let path = temporary + "/" + FileCalls.randomName()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(errno, "create a temporary file for", nil) }
        var ok = false
        defer {
            close(descriptor)
            if !ok { unlink(path) }
        }
        try fill(descriptor)
        guard fsync(descriptor) == 0 else { throw failure(errno, "flush a temporary file for", nil) }
        ok = true
        return path
    }

    /// Renames the temporary file over the object `key` (making its folders) and makes it durable.
    func install(_ temporary: String, as key: String) throws(ObjectStoreError) -> ObjectInfo {
        let path = objects + "/" + key
        var ok = false
        defer { if !ok { unlink(temporary) } }
        var folder = objects
        for segment in key.split(separator: "/").dropLast() {
            folder += "/" + segment
            try FileCalls.makeFolder(folder, location: location, key: key)
        }
        guard rename(temporary, path) == 0 else {
            if errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST {
                throw ObjectStoreError(
                    .invalidKey,
                    "\(location): \(key) is a folder of other objects here (a local store cannot hold both a/b and a)"
                )
            }
            throw failure(errno, "store", key)
        }
        ok = true
        try FileCalls.syncFolder(folder, location: location)
        return try info(key)
    }

    func notFound(_ key: String) -> ObjectStoreError {
        ObjectStoreError(.notFound, "\(location): no object \(key)")
    }

    /// An `errno` as the error of `action` on `key`.
    func failure(_ code: Int32, _ action: String, _ key: String?) -> ObjectStoreError {
        if let key, code == ENOENT || code == ENOTDIR { return notFound(key) }
        let reason = String(cString: strerror(code))
        return ObjectStoreError(.io, "\(location): cannot \(action) \(key ?? "an object"): \(reason)")
    }

    /// Runs blocking file calls on NIO's thread pool.
    func offload<T: Sendable>(
        _ body: @escaping @Sendable () throws(ObjectStoreError) -> T
    ) async throws(ObjectStoreError) -> T {
        let result: Result<T, ObjectStoreError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { () -> Result<T, ObjectStoreError> in
                do throws(ObjectStoreError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw ObjectStoreError(.unavailable, "\(location): the file I/O thread pool has shut down")
        }
        return try result.get()
    }
}

/// The POSIX calls the local store repeats.
enum FileCalls {
    /// A folder (0700) if missing; an existing one is left as it is.
    static func makeFolder(_ path: String, location: String, key: String? = nil) throws(ObjectStoreError) {
        if mkdir(path, 0o700) == 0 || errno == EEXIST {
            var status = stat()
            if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return }
            if let key {
                throw ObjectStoreError(
                    .invalidKey,
                    "\(location): \(key) needs \(path) as a folder, but an object is there (a local store cannot hold both a/b and a)"
                )
            }
        }
        let reason = String(cString: strerror(errno))
        throw ObjectStoreError(.io, "\(location): cannot make the folder \(path): \(reason)")
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], location: String) throws(ObjectStoreError) {
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, bytes.count - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                throw ObjectStoreError(.io, "\(location): cannot write: \(reason)")
            }
            done += count
        }
    }

    /// `fsync` of a folder, so a rename or unlink in it survives a crash.
    static func syncFolder(_ path: String, location: String) throws(ObjectStoreError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }  // gone: nothing left to make durable
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ObjectStoreError(.io, "\(location): cannot flush the folder \(path): \(reason)")
        }
    }

    /// 32 random hex digits: temporary file names and upload ids.
    static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<16).map { _ in generator.next() as UInt8 })
    }
}
