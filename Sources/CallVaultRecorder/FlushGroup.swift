public import CallVaultStore
import Foundation
public import Logging
import Synchronization

/// Group commit for all open recordings: every `interval` (default 1 s) one pass `fdatasync`s each
/// recording that has unsynced segments, so a crash loses at most segment duration + interval.
///
/// The pass runs on the group's own thread (``start()``) or on demand (``flushNow()``); the
/// appending threads never wait for it (see ``DurabilityHandle``). Every `progressInterval` a pass
/// also writes the durable duration and bytes of each recording that changed to the catalog, so
/// catalog progress costs one small transaction per recording every few seconds, never per segment.
public final class FlushGroup: Sendable {
    /// Time between two flush passes.
    public let interval: Duration
    /// Time between two catalog progress updates (checked at the end of each pass).
    public let progressInterval: Duration

    private let catalog: Catalog?
    private let logger: Logger
    /// The open recordings, keyed by their writer. Held for a whole pass, so a writer leaving the
    /// group waits until no `fdatasync` uses its descriptor.
    private let members = Mutex<[ObjectIdentifier: DurabilityHandle]>([:])
    private let lastLatencyNanoseconds = Atomic<Int64>(-1)
    private let lastSyncedCount = Atomic<Int>(0)
    private let passCount = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let lastProgress = Mutex<ContinuousClock.Instant?>(nil)

    /// - Parameters:
    ///   - interval: the durability window's flush part (default 1 s; DESIGN.md allows ≤ 2 s in total).
    ///   - catalog: where durable progress is written; nil to skip progress updates.
    ///   - progressInterval: how often progress reaches the catalog (default 5 s).
    public init(
        interval: Duration = .seconds(1),
        catalog: Catalog? = nil,
        progressInterval: Duration = .seconds(5),
        logger: Logger = Logger(label: "callvault.flush")
    ) {
        self.interval = interval
        self.catalog = catalog
        self.progressInterval = progressInterval
        self.logger = logger
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

    /// How many recordings are open in the group.
    public var count: Int { members.withLock { $0.count } }

    /// Adds an open recording (``RecordingWriter`` does this itself when given the group).
    public func add(_ writer: RecordingWriter) {
        let handle = writer.handle
        members.withLock { $0[ObjectIdentifier(writer)] = handle }
    }

    /// Removes a recording; returns once no pass is syncing it.
    public func remove(_ writer: RecordingWriter) {
        _ = members.withLock { $0.removeValue(forKey: ObjectIdentifier(writer)) }
    }

    /// One pass: syncs every recording with unsynced data and measures how long that took.
    /// - Returns: how many files were synced.
    @discardableResult
    public func flushNow() -> Int {
        let clock = ContinuousClock()
        let started = clock.now
        let synced = members.withLock { members -> Int in
            var synced = 0
            for handle in members.values {
                do throws(RecorderError) {
                    if try handle.syncIfDirty() { synced += 1 }
                } catch {
                    logger.error(
                        "flush failed",
                        metadata: ["recording": "\(handle.recordingID)", "error": "\(error.message)"]
                    )
                }
            }
            return synced
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
        for handle in handles {
            let duration = handle.syncedDurationMs.load(ordering: .acquiring)
            guard duration != handle.reportedDurationMs.load(ordering: .relaxed) else { continue }
            do {
                try catalog.updateRecordingProgress(
                    id: handle.recordingID,
                    durationMs: duration,
                    bytes: handle.syncedBytes.load(ordering: .acquiring)
                )
                handle.reportedDurationMs.store(duration, ordering: .relaxed)
            } catch  where error.code == .notFound {
                // The recording finished (or was recovered) between the pass and this report: its
                // final state already holds the full duration.
                continue
            } catch {
                logger.warning(
                    "progress not recorded",
                    metadata: ["recording": "\(handle.recordingID)", "error": "\(error.message)"]
                )
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
