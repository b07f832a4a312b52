import CallVaultArchive
import CallVaultModel
public import CallVaultStore
import Foundation
public import Logging
import Synchronization

/// Group commit for all open recordings: every `interval` (default 1 s) one pass makes each
/// recording that has unsynced segments durable, so a crash loses at most segment duration + interval.
///
/// How (``SyncMethod``): by default one `syncfs(2)` per filesystem holding open recordings, then
/// each file's own write-back error collected without new I/O; or `fdatasync(2)` of each file.
/// With 600 open recordings on this machine kind's virtio disk the first costs about a third of
/// the CPU and an eighth of the wall time of the second (docs/loadtest.md, "Flush passes").
///
/// The pass runs on the group's own thread (``start()``) or on demand (``flushNow()``); the
/// appending threads never wait for it (see ``DurabilityHandle``). Every `progressInterval` a pass
/// also writes the durable duration and bytes of each recording that changed to the catalog, so
/// catalog progress costs one small transaction per recording every few seconds, never per segment.
public final class FlushGroup: Sendable {
    /// How a pass makes the dirty recordings durable.
    public enum SyncMethod: String, Sendable, CaseIterable {
        /// One `syncfs(2)` per filesystem, then `sync_file_range(WAIT_AFTER)` per dirty file for its
        /// own write-back error (the data is clean by then: no I/O). A failed `syncfs` falls back to
        /// `fdatasync` of each of that filesystem's files, so a failure is still named per recording.
        /// `syncfs` reports write-back errors only from Linux 5.8 on: older kernels use ``eachFile``.
        /// It also writes other programs' dirty data on the same filesystem: give the data directory
        /// a filesystem of its own when something else there writes a lot.
        case filesystem
        /// `fdatasync(2)` of each dirty file, one after the other.
        case eachFile = "each-file"

        /// ``filesystem`` where the kernel reports write-back errors through `syncfs`, else ``eachFile``.
        public static var preferred: SyncMethod { Self.syncfsReportsErrors ? .filesystem : .eachFile }

        /// Linux ≥ 5.8 (`syncfs` returns the filesystem's write-back errors since then).
        static let syncfsReportsErrors: Bool = {
            guard LinuxSync.syncfs != nil, LinuxSync.syncFileRange != nil else { return false }
            var name = utsname()
            guard uname(&name) == 0 else { return false }
            let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            guard numbers.count == 2 else { return false }
            return (numbers[0], numbers[1]) >= (5, 8)
        }()
    }

    /// Time between two flush passes.
    public let interval: Duration
    /// How a pass syncs.
    public let method: SyncMethod
    /// Time between two catalog progress updates (checked at the end of each pass).
    public let progressInterval: Duration

    private let catalog: (any CatalogStore)?
    /// Set while a progress report to a catalog that answers asynchronously is under way, so slow
    /// round trips never pile up reports: the next one is skipped until this one is stored.
    private let reportInFlight = Atomic<Bool>(false)
    private let logger: Logger
    /// The open recordings, keyed by their writer. Held only to add, remove or copy out members,
    /// never across an `fdatasync`: the event loops add and remove recordings as calls start and
    /// end, and must not wait for a pass (0.3 s with 2,000 open recordings). A pass syncs a snapshot;
    /// a handle closed meanwhile is skipped (its own lock keeps its descriptor open while it syncs).
    private let members = Mutex<[ObjectIdentifier: DurabilityHandle]>([:])
    /// The pass's snapshot of the members, reused (capacity kept) so a pass allocates nothing;
    /// its lock also keeps two passes from running at once.
    private let snapshot = Mutex(PassState())
    private let lastLatencyNanoseconds = Atomic<Int64>(-1)
    private let lastSyncedCount = Atomic<Int>(0)
    private let passCount = Atomic<Int>(0)
    private let syncFailureCount = Atomic<Int>(0)
    private let lastSyncFailure = Atomic<Int32>(0)
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let lastProgress = Mutex<ContinuousClock.Instant?>(nil)

    /// - Parameters:
    ///   - interval: the durability window's flush part (default 1 s; DESIGN.md allows ≤ 2 s in total).
    ///   - catalog: where durable progress is written; nil to skip progress updates.
    ///   - progressInterval: how often progress reaches the catalog (default 5 s).
    ///   - method: how a pass syncs (default: ``SyncMethod/preferred``).
    public init(
        interval: Duration = .seconds(1),
        catalog: (any CatalogStore)? = nil,
        progressInterval: Duration = .seconds(5),
        method: SyncMethod = .preferred,
        logger: Logger = Logger(label: "callvault.flush")
    ) {
        self.interval = interval
        self.method = method
        self.catalog = catalog
        self.progressInterval = progressInterval
        self.logger = logger
        snapshot.withLock { $0.reserve(256) }
    }

    /// The wall time of the last pass that synced at least one file, or nil before the first.
    public var lastFlushLatency: Duration? {
        let ns = lastLatencyNanoseconds.load(ordering: .relaxed)
        return ns < 0 ? nil : .nanoseconds(ns)
    }

    /// How many files the last pass synced.
    public var lastSyncedFileCount: Int { lastSyncedCount.load(ordering: .relaxed) }

    /// How many passes ran.
    public var passes: Int { passCount.load(ordering: .relaxed) }
    /// Syncs that failed so far (a failing disk: `EIO`), and the errno of the latest.
    public var syncFailures: Int { syncFailureCount.load(ordering: .relaxed) }
    public var lastSyncFailureErrno: Int32 { lastSyncFailure.load(ordering: .relaxed) }

    /// How many recordings are open in the group.
    public var count: Int { members.withLock { $0.count } }

    /// Adds an open recording (``RecordingWriter`` does this itself when given the group).
    public func add(_ writer: RecordingWriter) {
        let handle = writer.handle
        members.withLock { $0[ObjectIdentifier(writer)] = handle }
    }

    /// Removes a recording from later passes (a pass under way may still sync it, until its handle closes).
    public func remove(_ writer: RecordingWriter) {
        _ = members.withLock { $0.removeValue(forKey: ObjectIdentifier(writer)) }
    }

    /// One pass: syncs every recording with unsynced data and measures how long that took.
    /// - Returns: how many files were synced.
    @discardableResult
    public func flushNow() -> Int {
        let clock = ContinuousClock()
        let started = clock.now
        let synced = snapshot.withLock { pass -> Int in
            defer { pass.clear() }
            members.withLock { members in
                for handle in members.values {
                    if let mark = handle.dirtyMark() { pass.dirty.append((handle, mark)) }
                }
            }
            return method == .filesystem ? syncFilesystems(&pass) : syncEachFile(pass.dirty)
        }
        let elapsed = clock.now - started
        passCount.add(1, ordering: .relaxed)
        lastSyncedCount.store(synced, ordering: .relaxed)
        if synced > 0 {
            let (seconds, attoseconds) = elapsed.components
            lastLatencyNanoseconds.store(seconds * 1_000_000_000 + attoseconds / 1_000_000_000, ordering: .relaxed)
        }
        reportProgressIfDue(now: clock.now)
        return synced
    }

    /// What one pass works through, kept between passes (capacity reused) so a pass allocates nothing.
    private struct PassState {
        /// The recordings with unsynced data and what each had appended when the pass began.
        var dirty: [(handle: DurabilityHandle, mark: DurabilityHandle.Mark)] = []
        /// The filesystems of the dirty recordings and whether their `syncfs` succeeded.
        var filesystems: [(device: UInt64, synced: Bool)] = []

        mutating func reserve(_ count: Int) {
            dirty.reserveCapacity(count)
            filesystems.reserveCapacity(4)
        }

        mutating func clear() {
            dirty.removeAll(keepingCapacity: true)
            filesystems.removeAll(keepingCapacity: true)
        }
    }

    /// ``SyncMethod/filesystem``: one `syncfs` per filesystem, then each file's error collected.
    private func syncFilesystems(_ pass: inout PassState) -> Int {
        for (handle, _) in pass.dirty where !pass.filesystems.contains(where: { $0.device == handle.device }) {
            // Any open descriptor on the filesystem will do; a handle closed meanwhile is passed over.
            var result: Int32?
            for (other, _) in pass.dirty where other.device == handle.device {
                result = other.syncFilesystem()
                if result != nil { break }
            }
            if let result, result != 0 {
                syncFailureCount.add(1, ordering: .relaxed)
                lastSyncFailure.store(result, ordering: .relaxed)
                logger.error(
                    "filesystem sync failed; syncing its recordings one by one",
                    metadata: ["errno": "\(result)", "error": "\(String(cString: strerror(result)))"])
            }
            pass.filesystems.append((handle.device, result == 0))
        }
        var synced = 0
        for (handle, mark) in pass.dirty {
            let filesystemSynced = pass.filesystems.contains { $0.device == handle.device && $0.synced }
            synced += settle(handle) { () throws(RecorderError) in
                filesystemSynced ? try handle.confirm(mark) : try handle.sync(mark)
            }
        }
        return synced
    }

    /// ``SyncMethod/eachFile``: `fdatasync` of each dirty file.
    private func syncEachFile(_ dirty: [(handle: DurabilityHandle, mark: DurabilityHandle.Mark)]) -> Int {
        var synced = 0
        for (handle, mark) in dirty {
            synced += settle(handle) { () throws(RecorderError) in try handle.sync(mark) }
        }
        return synced
    }

    /// 1 when `sync` made the recording durable; a failure is counted and logged (never thrown: the
    /// other recordings go on), 0 for it and for a handle closed meanwhile.
    private func settle(_ handle: DurabilityHandle, _ sync: () throws(RecorderError) -> Bool) -> Int {
        do throws(RecorderError) {
            return try sync() ? 1 : 0
        } catch {
            lastSyncFailure.store(handle.lastSyncErrno.load(ordering: .relaxed), ordering: .relaxed)
            syncFailureCount.add(1, ordering: .relaxed)
            logger.error("flush failed", metadata: ["recording": "\(handle.recordingID)", "error": "\(error.message)"])
            return 0
        }
    }

    /// Writes durable progress of recordings that changed since their last report, at most every `progressInterval`.
    /// A pass that syncs nothing new and reports nothing allocates nothing; the snapshot of the
    /// members (an array) is taken only when a report is due, and the catalog is written outside the lock.
    private func reportProgressIfDue(now: ContinuousClock.Instant) {
        guard let catalog else { return }
        let due = lastProgress.withLock { last -> Bool in
            if let previous = last, now - previous < progressInterval { return false }
            last = now
            return true
        }
        guard due else { return }
        let handles = members.withLock { Array($0.values) }
        var changed: [(handle: DurabilityHandle, progress: RecordingProgress)] = []
        for handle in handles {
            let duration = handle.syncedDurationMs.load(ordering: .acquiring)
            guard duration != handle.reportedDurationMs.load(ordering: .relaxed) else { continue }
            let progress = RecordingProgress(
                recordingID: handle.recordingID, durationMs: duration, bytes: handle.syncedBytes.load(ordering: .acquiring))
            changed.append((handle, progress))
        }
        guard !changed.isEmpty else { return }
        // One transaction for all: a recording that finished (or was recovered) between the pass and
        // this report is left alone, its final state already holds the full duration.
        if let sqlite = catalog as? Catalog {
            // A local transaction on this thread (never an event loop), as before.
            do {
                _ = try sqlite.updateRecordingProgress(changed.map(\.progress))
                for (handle, progress) in changed { handle.reportedDurationMs.store(progress.durationMs, ordering: .relaxed) }
            } catch {
                logger.warning(
                    "progress not recorded", metadata: ["recordings": "\(changed.count)", "error": "\(error.message)"])
            }
            return
        }
        // A network catalog: the round trip runs as a task, so a slow or absent database never delays
        // the next sync pass (durability does not wait for the catalog); one report at a time.
        guard reportInFlight.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        let reports = changed.map { (handle: $0.handle, durationMs: $0.progress.durationMs) }
        let updates = changed.map(\.progress)
        let logger = self.logger
        let inFlight = self
        Task {
            defer { inFlight.reportInFlight.store(false, ordering: .releasing) }
            do throws(CatalogError) {
                _ = try await catalog.updateRecordingProgress(updates)
                for (handle, duration) in reports { handle.reportedDurationMs.store(duration, ordering: .relaxed) }
            } catch {
                logger.warning(
                    "progress not recorded", metadata: ["recordings": "\(updates.count)", "error": "\(error.message)"])
            }
        }
    }

    /// Starts the group's thread: a pass every `interval` until ``stop()``. Idempotent.
    public func start() {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        stopping.store(false, ordering: .releasing)
        let thread = Thread { [self] in
            let clock = ContinuousClock()
            var next = clock.now + interval
            while !stopping.load(ordering: .acquiring) {
                // Sleep in short steps so stop() returns quickly even with a long interval.
                let remaining = next - clock.now
                if remaining > .zero {
                    Thread.sleep(forTimeInterval: min(0.05, Self.seconds(remaining)))
                    continue
                }
                flushNow()
                next = max(next + interval, clock.now)
            }
            flushNow()
            running.store(false, ordering: .releasing)
        }
        thread.name = "callvault-flush"
        thread.start()
    }

    /// Stops the thread after one last pass; returns once it has ended.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        while running.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.005) }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}
