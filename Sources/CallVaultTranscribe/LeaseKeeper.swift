import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization

/// Renews a job's lease in a task of its own while the worker waits on its engine, so a long
/// transcription is not mistaken for a dead worker.
///
/// A task, because renewing is a queue round trip (a network database on PostgreSQL), which is async;
/// the task runs on a thread of its own (an ``EngineThread`` as its executor preference) and waits between
/// renewals by blocking that thread (not `Task.sleep`, whose wake-up goes through the global executor), so
/// its timing holds even when the process's cooperative pool is saturated, as a thread-based keeper's did.
///
/// Only a definite answer counts as a lost lease: the renewal changed no row (the job was taken over,
/// finished or cancelled: the lease's attempt number no longer matches), or the lease ran out without
/// being renewed (another worker may claim it from then on). A renewal that fails — a busy catalog, a
/// database briefly unavailable — is retried until the lease's own expiry, because until then no other
/// worker can claim the job. Once the lease is lost the keeper stops renewing, and the worker drops its
/// result instead of finishing a job it no longer holds.
final class LeaseKeeper: Sendable {
    /// Renews the lease: true if it is still ours, false if not; throws when it cannot tell.
    typealias Renewal = @Sendable () async throws(JobQueueError) -> Bool

    private struct State {
        var lost = false
        /// Until when the lease is known to be ours (the claim's or the last renewal's expiry).
        var expiresAt: Date
        var failures = 0
    }

    private let state: Mutex<State>
    private let renewal: Renewal
    /// How long one renewal makes the lease last, in the whole seconds the queues count.
    private let leaseSeconds: TimeInterval
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Where the renewing task runs.
    private let thread = EngineThread(name: "callvault-lease")
    /// Wakes the keeper's wait between renewals when it is stopped.
    private let pause = Pause()

    /// Starts renewing `lease` on `queue` every third of `duration`.
    /// - Parameter expiresAt: the claim's expiry (`JobRecord.leaseExpiresAt`; now + `duration` if absent).
    convenience init(queue: any JobQueue, lease: JobLease, duration: Duration, expiresAt: Date?) {
        let seconds = Self.wholeSeconds(duration)
        self.init(
            lease: duration, expiresAt: expiresAt ?? Date().addingTimeInterval(seconds),
            interval: .seconds(max(0.05, seconds / 3)), retryDelay: .seconds(min(1, max(0.05, seconds / 3)))
        ) { () async throws(JobQueueError) in
            try await queue.renew(lease, for: duration)
        }
    }

    /// Starts calling `renew` every `interval`, and every `retryDelay` after a renewal that failed without
    /// an answer. The renewing task holds the keeper until ``stop()``, which every user must call.
    init(lease: Duration, expiresAt: Date, interval: Duration, retryDelay: Duration, renew: @escaping Renewal) {
        state = Mutex(State(expiresAt: expiresAt))
        renewal = renew
        leaseSeconds = Self.wholeSeconds(lease)
        let task = Task(executorPreference: thread) { [self] in
            await keep(interval: interval, retryDelay: retryDelay)
        }
        self.task.withLock { $0 = task }
    }

    private func keep(interval: Duration, retryDelay: Duration) async {
        var wait = interval
        while !Task.isCancelled {
            guard pause.sleep(wait) else { return }
            switch await renewOnce() {
            case .some(true): wait = interval
            case .some(false): return
            case nil:
                let left = state.withLock { $0.expiresAt.timeIntervalSinceNow }
                if left <= 0 {
                    state.withLock { $0.lost = true }
                    return
                }
                wait = min(retryDelay, .seconds(left))
            }
        }
    }

    /// One renewal: true (renewed), false (lost, recorded), nil (no answer, counted as a failure).
    private func renewOnce() async -> Bool? {
        let now = Date()
        do {
            if try await renewal() {
                state.withLock { $0.expiresAt = max($0.expiresAt, now.addingTimeInterval(leaseSeconds)) }
                return true
            }
            state.withLock { $0.lost = true }
            return false
        } catch {
            state.withLock { $0.failures += 1 }
            return nil
        }
    }

    /// Renews now and says whether the lease is still ours: the check a worker makes before it stores a
    /// result, so a worker that stalled past its lease learns so before writing, not after.
    ///
    /// True when the renewal succeeded, or when it could not get an answer but the lease has not yet run
    /// out by this process's clock (no one else can have claimed the job before then).
    func confirm() async -> Bool {
        if state.withLock({ $0.lost }) { return false }
        switch await renewOnce() {
        case .some(let held): return held
        case nil: return state.withLock { $0.expiresAt.timeIntervalSinceNow > 0 }
        }
    }

    /// Stops renewing (waiting for a renewal in flight to end); returns whether the lease was lost
    /// meanwhile (or ran out unrenewed).
    func stop() async -> Bool {
        let task = self.task.withLock { $0 }
        pause.stop()
        task?.cancel()
        await task?.value
        thread.close()
        return state.withLock { state in
            if state.expiresAt.timeIntervalSinceNow <= 0 { state.lost = true }
            return state.lost
        }
    }

    /// Whether the lease is known lost (a renewal found the job taken, or it ran out unrenewed).
    var isLost: Bool { state.withLock { $0.lost } }

    /// Renewals that failed without an answer so far (each retried), for tests and diagnostics.
    var transientFailures: Int { state.withLock { $0.failures } }

    /// A wait that ``stop()`` cuts short; it blocks the keeper's own thread, never one of the pool.
    private final class Pause: @unchecked Sendable {
        // @unchecked: `stopped` is only touched under `condition`.
        private let condition = NSCondition()
        private var stopped = false

        /// Waits `duration`; false when stopped (before or during the wait).
        func sleep(_ duration: Duration) -> Bool {
            let until = Date().addingTimeInterval(Double(duration.components.seconds)
                + Double(duration.components.attoseconds) / 1e18)
            return condition.withLock {
                while !stopped && Date() < until { _ = condition.wait(until: until) }
                return !stopped
            }
        }

        func stop() {
            condition.withLock {
                stopped = true
                condition.broadcast()
            }
        }
    }

    /// The lease in whole seconds, as both queues count it when renewing.
    private static func wholeSeconds(_ lease: Duration) -> TimeInterval {
        Double(lease.components.seconds)
    }
}
