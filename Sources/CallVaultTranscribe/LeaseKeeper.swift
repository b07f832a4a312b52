import CallVaultStore
import Foundation

/// Renews a job's lease on its own thread while the worker is busy in an engine call, so a long
/// transcription is not mistaken for a dead worker. If a renewal fails (the lease was lost), it
/// records that, and the worker drops its result instead of completing a job it no longer holds.
final class LeaseKeeper: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var lost = false
    private var thread: Thread?

    /// Starts renewing `jobID` for `workerID` every third of `lease`.
    init(catalog: Catalog, jobID: String, workerID: String, lease: Duration) {
        let interval = max(0.05, Double(lease.components.seconds) / 3)
        let thread = Thread { [self] in
            condition.lock()
            defer { condition.unlock() }
            while !stopped {
                _ = condition.wait(until: Date().addingTimeInterval(interval))
                if stopped { break }
                let held = (try? catalog.heartbeat(jobID: jobID, workerID: workerID, lease: lease)) ?? false
                if !held { lost = true }
            }
        }
        thread.name = "callvault-lease"
        self.thread = thread
        thread.start()
    }

    /// Stops renewing; returns whether the lease was lost meanwhile.
    func stop() -> Bool {
        condition.lock()
        stopped = true
        condition.signal()
        let result = lost
        condition.unlock()
        return result
    }

    deinit { _ = stop() }
}
