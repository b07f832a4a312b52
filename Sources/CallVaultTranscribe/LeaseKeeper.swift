import CallVaultModel
import CallVaultStore
import Foundation

/// Renews a job's lease on its own thread while the worker is busy in an engine call, so a long
/// transcription is not mistaken for a dead worker.
///
/// Only a definite answer counts as a lost lease: the renewal changed no row (the job was taken over,
/// finished or cancelled), or the lease ran out without being renewed (another worker may claim it
/// from then on). A renewal that fails — a busy or briefly unavailable catalog — is retried until the
/// lease's own expiry, because until then no other worker can claim the job. Once the lease is lost
/// the keeper stops renewing, and the worker drops its result instead of completing a job it no
/// longer holds.
final class LeaseKeeper: @unchecked Sendable {
    /// Renews the lease at `now`: true if it is still ours, false if not; throws when it cannot tell.
    typealias Heartbeat = @Sendable (_ now: Date) throws(CatalogError) -> Bool

    private let condition = NSCondition()
    private var stopped = false
    private var lost = false
    /// Until when the lease is known to be ours (the claim's or the last renewal's expiry).
    private var expiresAt: Date
    private var failures = 0
    private var thread: Thread?

    /// Starts renewing `jobID` for `workerID` every third of `lease`.
    /// - Parameter expiresAt: the claim's expiry (`JobRecord.leaseExpiresAt`).
    /// - Parameter attempt: the claim's attempt number: a renewal of an earlier attempt is refused.
    convenience init(
        catalog: Catalog, jobID: String, workerID: String, attempt: Int? = nil, lease: Duration, expiresAt: Date?
    ) {
        let seconds = Self.catalogSeconds(lease)
        self.init(
            lease: lease, expiresAt: expiresAt ?? Date().addingTimeInterval(seconds),
            interval: max(0.05, seconds / 3), retryDelay: min(1, max(0.05, seconds / 3))
        ) { now throws(CatalogError) in
            try catalog.heartbeat(jobID: jobID, workerID: workerID, attempt: attempt, lease: lease, now: now)
        }
    }

    /// Starts calling `heartbeat` every `interval` seconds, and every `retryDelay` seconds after a
    /// renewal that failed without an answer.
    init(
        lease: Duration, expiresAt: Date, interval: TimeInterval, retryDelay: TimeInterval,
        heartbeat: @escaping Heartbeat
    ) {
        self.expiresAt = expiresAt
        let seconds = Self.catalogSeconds(lease)
        let thread = Thread { [self] in
            condition.lock()
            defer { condition.unlock() }
            var wait = interval
            while !stopped && !lost {
                _ = condition.wait(until: Date().addingTimeInterval(wait))
                if stopped { break }
                let now = Date()
                do throws(CatalogError) {
                    if try heartbeat(now) {
                        self.expiresAt = now.addingTimeInterval(seconds)
                        wait = interval
                    } else {
                        lost = true
                    }
                } catch {
                    failures += 1
                    let left = self.expiresAt.timeIntervalSinceNow
                    if left <= 0 { lost = true } else { wait = min(retryDelay, left) }
                }
            }
        }
        thread.name = "callvault-lease"
        self.thread = thread
        thread.start()
    }

    /// Stops renewing; returns whether the lease was lost meanwhile (or ran out unrenewed).
    func stop() -> Bool {
        condition.lock()
        stopped = true
        if expiresAt.timeIntervalSinceNow <= 0 { lost = true }
        condition.signal()
        let result = lost
        condition.unlock()
        return result
    }

    /// Renewals that failed without an answer so far (each retried), for tests and diagnostics.
    var transientFailures: Int {
        condition.lock()
        defer { condition.unlock() }
        return failures
    }

    deinit { _ = stop() }

    /// The lease in seconds as ``Catalog/heartbeat(jobID:workerID:lease:now:)`` counts it (whole seconds).
    private static func catalogSeconds(_ lease: Duration) -> TimeInterval {
        Double(lease.components.seconds)
    }
}
