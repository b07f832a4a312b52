public import CallVaultCrypto

/// One object of an ``ObjectStore`` as a ``SealedByteSource``: a sealed file read from a bucket by
/// ranged GETs of a bounded window, so a long recording is never downloaded whole into memory nor
/// written to a temporary file.
///
/// It holds at most one window (``windowByteCount`` bytes, 1 MiB by default) and fetches the next one
/// when reading passes its end; ``skip(_:)`` only moves the offset. Each GET blocks the calling
/// thread, so use it inside ``ObjectReading/run(_:)`` (elsewhere reads fail, saying so). Not
/// thread-safe, as the reader it feeds.
public final class ObjectByteSource: SealedByteSource {
    /// 1 MiB: a few dozen segments per GET, few enough requests for a long call.
    public static let defaultWindowByteCount = 1 << 20

    public let store: any ObjectStore
    public let key: String
    /// The object's size in bytes; reads end there.
    public let size: Int
    /// The most bytes one GET asks for.
    public let windowByteCount: Int
    /// GETs sent so far (tests check the windowing with it; also a figure for metrics).
    public private(set) var getCount = 0
    /// Bytes those GETs returned.
    public private(set) var fetchedByteCount = 0
    /// The offset the next read starts at.
    public private(set) var offset = 0
    public private(set) var failureCode: SealedFileError.Code = .ioFailed
    public private(set) var failureReason = "no failure"

    private var window: [UInt8] = []
    private var windowStart = 0

    /// A source for `key`, whose size the caller already knows (from a listing or the catalog); no I/O.
    public init(store: any ObjectStore, key: String, size: Int, windowByteCount: Int = defaultWindowByteCount) {
        precondition(windowByteCount >= 1, "an object read window needs at least one byte")
        precondition(size >= 0, "an object size cannot be negative")
        self.store = store
        self.key = key
        self.size = size
        self.windowByteCount = windowByteCount
    }

    /// A source for `key`, its size asked of the store (one HEAD, blocking like a GET): `.fileNotFound`
    /// naming the key when there is no such object, `.ioFailed` with the store's reason otherwise.
    public convenience init(
        store: any ObjectStore, key: String, windowByteCount: Int = defaultWindowByteCount
    ) throws(SealedFileError) {
        let info: ObjectInfo
        do throws(ObjectStoreError) {
            info = try ObjectReading.wait { () async throws(ObjectStoreError) -> ObjectInfo in try await store.head(key) }
        } catch {
            throw SealedFileError(Self.code(error), "cannot open sealed object: \(Self.reason(error))", path: key)
        }
        self.init(store: store, key: key, size: info.size, windowByteCount: windowByteCount)
    }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        var done = 0
        while done < count, offset < size {
            if offset < windowStart || offset >= windowStart + window.count {
                guard fill() else { return -1 }
            }
            let start = offset - windowStart
            let n = min(window.count - start, count - done)
            window.withUnsafeBytes { (buffer + done).copyMemory(from: $0.baseAddress! + start, byteCount: n) }
            done += n
            offset += n
        }
        return done
    }

    public func skip(_ count: Int) -> Bool {
        let (moved, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, count >= 0 else {
            failureReason = "cannot skip \(count) bytes in \(key)"
            return false
        }
        offset = moved
        return true
    }

    /// Fetches the window that starts at `offset`, dropping the previous one first.
    private func fill() -> Bool {
        let range = ByteRange(offset: offset, length: min(windowByteCount, size - offset))
        window = []
        windowStart = offset
        getCount += 1
        let store = self.store, key = self.key
        do throws(ObjectStoreError) {
            let bytes = try ObjectReading.wait { () async throws(ObjectStoreError) -> [UInt8] in
                try await store.get(key, range: range)
            }
            fetchedByteCount += bytes.count
            guard bytes.count == range.length else {
                failureCode = .ioFailed
                failureReason =
                    "\(store.location): \(bytes.count) bytes came back for bytes \(range.offset)...\(range.last) "
                    + "of \(key); the object changed while it was read"
                return false
            }
            window = bytes
            return true
        } catch {
            failureCode = Self.code(error)
            failureReason = Self.reason(error)
            return false
        }
    }

    static func code(_ error: ObjectStoreError) -> SealedFileError.Code {
        error.code == .notFound ? .fileNotFound : .ioFailed
    }

    /// The store's message (it names the store and key, never credentials), with what to do when the
    /// store is unreachable.
    static func reason(_ error: ObjectStoreError) -> String {
        switch error.code {
        case .unavailable:
            return error.message + "; check that the object store is running and reachable from here, then retry"
        default:
            return error.message
        }
    }
}
