import CallVaultArchive
import CallVaultCrypto
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The part of a recording the flush thread touches: a second, read-only descriptor of the open
/// part file and atomic counters of what was appended and what is durable.
///
/// `fdatasync` (or `syncfs`) on any descriptor of a file flushes the file's data, so the flush thread never
/// touches the `SealedFileWriter` (which is single-threaded) and never holds a lock the appending
/// thread waits for: the per-segment path only stores two atomics after its `write(2)`.
/// Counters are stored after the write returned and loaded before `fdatasync` starts, so every
/// counted byte was in the page cache when the sync began — what a flush reports as durable is.
final class DurabilityHandle: Sendable {
    let recordingID: String
    let path: String
    /// Bytes in the current part file (header included) and milliseconds of audio in the recording.
    let appendedBytes = Atomic<Int64>(0)
    let appendedDurationMs = Atomic<Int64>(0)
    let syncedBytes = Atomic<Int64>(0)
    let syncedDurationMs = Atomic<Int64>(0)
    /// The duration last written to the catalog, so unchanged recordings cost no catalog write.
    let reportedDurationMs = Atomic<Int64>(-1)
    /// errno of the last failed `fdatasync`, 0 if none.
    let lastSyncErrno = Atomic<Int32>(0)
    private let fd: Mutex<Int32>

    init(recordingID: String, path: String) throws(RecorderError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RecorderError(.ioFailed, "cannot open \(path) for syncing: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            closeSyncDescriptor(fd)
            throw RecorderError(.ioFailed, "cannot stat \(path) for syncing: \(reason)")
        }
        self.recordingID = recordingID
        self.path = path
        self.device = UInt64(status.st_dev)
        self.fd = Mutex(fd)
    }

    /// The filesystem the file is on (`st_dev`): a pass syncs each filesystem once.
    let device: UInt64

    /// What was appended when a pass began: ``syncIfDirty()`` and ``confirm(_:)`` make exactly this
    /// durable, even when appends go on meanwhile.
    struct Mark {
        let bytes: Int64
        let durationMs: Int64
    }

    /// The mark to sync, or nil when nothing was appended since the last sync.
    func dirtyMark() -> Mark? {
        let bytes = appendedBytes.load(ordering: .acquiring)
        let duration = appendedDurationMs.load(ordering: .acquiring)
        guard bytes != syncedBytes.load(ordering: .acquiring) || duration != syncedDurationMs.load(ordering: .acquiring)
        else { return nil }
        return Mark(bytes: bytes, durationMs: duration)
    }

    deinit {
        close()
    }

    /// Records a segment that `write(2)` has handed to the kernel. Two atomic stores, no allocation.
    @inline(__always)
    func noteAppended(fileBytes: Int64, durationMs: Int64) {
        appendedDurationMs.store(durationMs, ordering: .releasing)
        appendedBytes.store(fileBytes, ordering: .releasing)
    }

    /// Records that the recording is durable up to `fileBytes` and `durationMs` (a new part's header
    /// was synced when the file was created; earlier parts were durable before it).
    func noteSynced(fileBytes: Int64, durationMs: Int64) {
        appendedDurationMs.store(durationMs, ordering: .releasing)
        syncedDurationMs.store(durationMs, ordering: .releasing)
        appendedBytes.store(fileBytes, ordering: .releasing)
        syncedBytes.store(fileBytes, ordering: .releasing)
    }

    /// `fdatasync`s the file if it has unsynced data; returns whether it synced. A closed handle
    /// (its recording finished, with its own last sync, while a pass held it) is not synced.
    func syncIfDirty() throws(RecorderError) -> Bool {
        guard let mark = dirtyMark() else { return false }
        return try sync(mark)
    }

    /// `fdatasync`s the file, then counts `mark` durable; false when the handle was closed.
    func sync(_ mark: Mark) throws(RecorderError) -> Bool {
        let result = withDescriptor { fd in
            if let injected = WriteFault.injectedSync() { return injected }  // a test's failing disk
            while fdatasync(fd) != 0 {
                if errno == EINTR { continue }
                return errno
            }
            return 0
        }
        return try settle(mark, result, "fdatasync")
    }

    /// `syncfs(2)` of the file's filesystem: every file on it is durable up to what was written before
    /// the call. Returns errno (0 on success), or nil when the handle was closed.
    func syncFilesystem() -> Int32? {
        guard let syncfs = LinuxSync.syncfs else { return ENOSYS }
        return withDescriptor { fd in WriteFault.injectedSync() ?? (syncfs(fd) == 0 ? 0 : errno) }
    }

    /// After a successful ``syncFilesystem()`` that began once `mark` was taken: collects this file's
    /// own writeback error (`sync_file_range` waiting only, so no new I/O: the data is clean), then
    /// counts `mark` durable. An error a write-back of this file hit since the last check is reported
    /// here, so a filesystem sync never hides a failed file. False when the handle was closed.
    func confirm(_ mark: Mark) throws(RecorderError) -> Bool {
        guard let syncFileRange = LinuxSync.syncFileRange else { return try sync(mark) }
        let result = withDescriptor { fd in
            if let injected = WriteFault.injectedSync() { return injected }
            while syncFileRange(fd, 0, 0, LinuxSync.waitAfter) != 0 {
                if errno == EINTR { continue }
                return errno
            }
            return 0
        }
        return try settle(mark, result, "write-back")
    }

    /// Runs `body` with the open descriptor under its lock; nil when the handle is closed.
    private func withDescriptor(_ body: (Int32) -> Int32) -> Int32? {
        fd.withLock { fd in fd >= 0 ? body(fd) : nil }
    }

    private func settle(_ mark: Mark, _ result: Int32?, _ operation: String) throws(RecorderError) -> Bool {
        guard let result else { return false }
        guard result == 0 else {
            lastSyncErrno.store(result, ordering: .relaxed)
            throw RecorderError(.ioFailed, "\(operation) of \(path) failed: \(String(cString: strerror(result)))")
        }
        syncedBytes.store(mark.bytes, ordering: .releasing)
        syncedDurationMs.store(mark.durationMs, ordering: .releasing)
        return true
    }

    /// Closes the sync descriptor (waiting for a sync under way); later syncs do nothing.
    func close() {
        fd.withLock { fd in
            if fd >= 0 { closeSyncDescriptor(fd) }
            fd = -1
        }
    }
}

/// `close(2)`, outside the class whose `close()` method would shadow it.
private func closeSyncDescriptor(_ fd: Int32) {
    _ = close(fd)
}
