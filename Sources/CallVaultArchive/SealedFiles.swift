public import CallVaultCrypto
public import CallVaultModel
public import CallVaultObjects
public import CallVaultStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a data directory's sealed files are: the one place that knows, so that recording, export,
/// verification, transcription, shredding and reconciliation all agree.
///
/// Without an object store, a file is at its catalog path under the directory (or its objects
/// directory). With one (`init --objects s3://...`), a new file is written to the node's spool (the data
/// directory, same relative path) and marked ``SealedStorage/spooled``; once it is closed it is uploaded
/// (``SealedFileUploader``) and then read from the store under the same relative path as its key.
/// A file still `spooled` or `uploading` is read from the spool when this node has it.
public struct SealedFiles: Sendable {
    public let dataDirectory: DataDirectory
    /// The object store files are uploaded to; nil: they stay in the directory.
    public let objects: (any ObjectStore)?

    public init(dataDirectory: DataDirectory, objects: (any ObjectStore)? = nil) {
        self.dataDirectory = dataDirectory
        self.objects = objects
    }

    /// What the catalog records for a new file: `spooled` when files go to an object store, else nil.
    public var newFileStorage: SealedStorage? { objects == nil ? nil : .spooled }

    /// One part file of a sealed recording (or a transcript's one file), wherever it is.
    public enum Part: Sendable, Equatable {
        /// A file on this node: in the directory, or a spool copy not yet uploaded.
        case file(path: String)
        /// An object of the store, with its size.
        case object(key: String, size: Int)

        /// What messages call it.
        public var name: String {
            switch self {
            case .file(let path): path
            case .object(let key, _): key
            }
        }
    }

    /// The parts of the sealed file at catalog `path` (part 0, then `.part1.cvr`, ...), in order; empty
    /// when none is found. Looks in the spool first for a file not yet `stored`, then in the store.
    public func parts(path: String, storage: SealedStorage?) async throws(ObjectStoreError) -> [Part] {
        let local = RecordingFiles.existingParts(firstPart: dataDirectory.resolve(path))
        guard let objects, let storage else { return local.map { .file(path: $0) } }
        // Not yet stored: the spool copy when this node has it (an upload may have finished before a crash
        // left the row behind, so the store is asked otherwise).
        if storage != .stored && !local.isEmpty { return local.map { .file(path: $0) } }
        var found: [Part] = []
        while true {
            let key = RecordingFiles.partPath(firstPart: path, part: found.count)
            do {
                let info = try await objects.head(key)
                found.append(.object(key: key, size: info.size))
            } catch where error.code == .notFound {
                return found
            }
        }
    }

    /// How a reader opens `part`: the file, or ranged GETs of the object (a window at a time).
    public func source(_ part: Part) -> SealedPartSource {
        switch part {
        case .file(let path): return .file(path)
        case .object(let key, let size):
            guard let objects else { return .file(dataDirectory.resolve(key)) }
            return .object(key, in: objects, size: size)
        }
    }

    /// Runs a synchronous reading of `parts` where it may block: inline for files on this node, on
    /// ``ObjectReading``'s threads when a part is an object (its ranged GETs wait there, never on a
    /// Swift concurrency thread or an event loop).
    public static func reading<T: Sendable, Failure: Error>(
        _ parts: [Part], _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let remote = parts.contains { if case .object = $0 { true } else { false } }
        guard remote else { return try body() }
        return try await ObjectReading.run(body)
    }

    /// The spool copies of the file at catalog `path` on this node (part 0 first), with their sizes.
    public func spoolParts(path: String) -> [(path: String, key: String, bytes: Int64)] {
        let first = dataDirectory.resolve(path)
        return RecordingFiles.existingParts(firstPart: first).enumerated().map { number, file in
            (file, RecordingFiles.partPath(firstPart: path, part: number), RecordingFiles.size(of: file))
        }
    }
}
