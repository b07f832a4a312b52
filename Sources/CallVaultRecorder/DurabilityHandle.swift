import CallVaultArchive
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The part of a recording the flush thread touches: a second, read-only descriptor of the open
/// part file and atomic counters of what was appended and what is durable.
///
/// `fdatasync` on any descriptor of a file flushes the file's data, so the flush thread never
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
        self.recordingID = recordingID
        self.path = path
        self.fd = Mutex(fd)
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

    /// Whether something was appended after the last successful sync.
    var isDirty: Bool {
        appendedBytes.load(ordering: .acquiring) != syncedBytes.load(ordering: .acquiring)
            || appendedDurationMs.load(ordering: .acquiring) != syncedDurationMs.load(ordering: .acquiring)
    }

    /// `fdatasync`s the file if it has unsynced data; returns whether it synced. A closed handle
    /// (its recording finished, with its own last sync, while a pass held it) is not synced.
    func syncIfDirty() throws(RecorderError) -> Bool {
        let bytes = appendedBytes.load(ordering: .acquiring)
        let duration = appendedDurationMs.load(ordering: .acquiring)
        guard bytes != syncedBytes.load(ordering: .acquiring) || duration != syncedDurationMs.load(ordering: .acquiring)
        else { return false }
        let result: Int32? = fd.withLock { fd in
            guard fd >= 0 else { return nil }
            while fdatasync(fd) != 0 {
                if errno == EINTR { continue }
                return errno
            }
            return 0
        }
        guard let result else { return false }
        guard result == 0 else {
            lastSyncErrno.store(result, ordering: .relaxed)
            throw RecorderError(
                .ioFailed,
                "fdatasync of \(path) failed: \(String(cString: strerror(result)))"
            )
        }
        syncedBytes.store(bytes, ordering: .releasing)
        syncedDurationMs.store(duration, ordering: .releasing)
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
