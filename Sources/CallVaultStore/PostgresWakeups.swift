import Logging
internal import PostgresNIO
import Synchronization

/// Wake-ups for a node's workers waiting for jobs: `LISTEN callvault_jobs` on one connection of its own
/// (outside the pool, which it would otherwise hold for good), started by the first wait. Each
/// notification wakes every worker waiting on this queue; one that arrives while none waits is kept, so
/// the next wait returns at once (a job queued between a worker's empty claim and its wait is not slept
/// through).
///
/// Only a hint: a notification can be lost (the listening connection drops, the node was not yet
/// listening), so a worker always claims after waking and after every timeout, and polling finds every
/// job. After the listening connection is lost and made again, waiting workers are woken once to poll.
final class PostgresWakeups: Sendable {
    /// The channel enqueue notifies; the payload is the job's engine name (no call, tenant or person).
    static let channel = "callvault_jobs"

    private struct State {
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextID: UInt64 = 0
        /// A notification came while no one waited.
        var pending = false
        var listener: Task<Void, Never>?
        var listening = false
        var closed = false
    }

    private let state = Mutex(State())
    private let pool: PostgresPool

    init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Whether the `LISTEN` is in place (for tests: a notification sent now is seen).
    var isListening: Bool { state.withLock { $0.listening } }

    /// Returns true when notified (or a notification came since the last wait), false after `timeout`,
    /// or at once when closed or cancelled.
    func wait(timeout: Duration) async -> Bool {
        startListening()
        let id: UInt64? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let registered = state.withLock { state in
                    guard !state.closed else { return false }
                    state.waiters[id] = continuation
                    return true
                }
                guard registered else {
                    continuation.resume(returning: false)
                    return
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    self.resume(id, with: false)
                }
            }
        } onCancel: {
            self.resume(id, with: false)
        }
    }

    /// Stops listening and lets every waiting worker go.
    func close() async {
        let (listener, waiters) = state.withLock { state in
            state.closed = true
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            return (state.listener, waiters)
        }
        for waiter in waiters { waiter.resume(returning: false) }
        listener?.cancel()
        await listener?.value
    }

    private func resume(_ id: UInt64, with value: Bool) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume(returning: value)
    }

    private func wakeAll() {
        let waiters = state.withLock { state in
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            if waiters.isEmpty { state.pending = true }
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    private func startListening() {
        state.withLock { state in
            guard state.listener == nil, !state.closed else { return }
            state.listener = Task { [weak self] in await self?.listen() }
        }
    }

    /// Listens until closed; a lost connection is made again (backing off to 5 s between attempts).
    private func listen() async {
        var delay = Duration.milliseconds(100)
        var reconnected = false
        while !Task.isCancelled {
            do {
                let connection = try await pool.connectDirectly(id: 1)
                delay = .milliseconds(100)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        state.withLock { $0.listening = true }
                        // Notifications sent while no one listened are lost: let the waiters poll.
                        if reconnected { wakeAll() }
                        for try await _ in notifications { wakeAll() }
                    }
                } catch {
                    pool.logger.debug(
                        "listening for queued jobs stopped",
                        metadata: ["error": "\(String(reflecting: error))"]
                    )
                }
                state.withLock { $0.listening = false }
                try? await connection.close()
                reconnected = true
            } catch {
                pool.logger.debug(
                    "cannot listen for queued jobs",
                    metadata: ["error": "\(String(reflecting: error))"]
                )
                reconnected = true
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
}
