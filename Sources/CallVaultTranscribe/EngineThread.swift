import CallVaultArchive
import Foundation

/// One worker's own thread for the work that blocks: making an engine, transcribing, resampling.
///
/// Engines block for seconds (a decoder in C, a pipe to a Whisper sidecar, an HTTP request with its
/// retries). On Swift's cooperative pool — one thread per core, two on a small machine — two busy engines
/// would stall every task of the process, among them the lease renewals that keep the engines' jobs and
/// the queue's round trips. So each worker's worker task hands its blocking calls to a thread of its own,
/// one call at a time in order, and awaits the answer without holding a thread of the pool. The worker
/// task itself stays async: it talks to the queue and the catalog, which may be a network database.
///
/// It is also a `TaskExecutor`: a task started with it as its executor preference (a worker's loop, a
/// ``LeaseKeeper``) runs its async code here rather than on the cooperative pool, so it keeps its timing
/// even when the pool is saturated by other work in the process (blocking code elsewhere, a test run of
/// hundreds of tests on two cores). While such a task awaits an ``run(_:)`` call on the same thread it is
/// suspended, so the thread is free to run the call.
final class EngineThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `pending` and `closed` are only touched under `condition`.
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    private var closed = false

    /// Starts the thread, named `name` (as `ps -T` and debuggers show it).
    init(name: String) {
        let thread = Thread { [self] in serve() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on this thread after the calls submitted before it, and returns what it returns.
    /// Throws `engineFailed` without running it once the thread was closed.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(TranscriptionError) -> T) async throws(TranscriptionError)
        -> T
    {
        let result: Result<T, TranscriptionError> = await withCheckedContinuation { continuation in
            let accepted = condition.withLock {
                guard !closed else { return false }
                pending.append {
                    continuation.resume(returning: Result { () throws(TranscriptionError) in try body() })
                }
                condition.signal()
                return true
            }
            if !accepted {
                continuation.resume(
                    returning: .failure(TranscriptionError(.engineFailed, "the worker's engine thread was stopped")))
            }
        }
        return try result.get()
    }

    /// Runs a job of a task that prefers this executor, in turn with the calls of ``run(_:)``.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = condition.withLock {
            guard !closed else { return false }
            pending.append { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            condition.signal()
            return true
        }
        // A job must run: after close (a task that outlived its worker) it runs on the global executor.
        if !accepted { job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor()) }
    }

    /// Lets the thread end once the calls already submitted have run; later calls are refused.
    func close() {
        condition.withLock {
            closed = true
            condition.signal()
        }
    }

    private func serve() {
        while true {
            let next: (@Sendable () -> Void)? = condition.withLock {
                while pending.isEmpty && !closed { condition.wait() }
                return pending.isEmpty ? nil : pending.removeFirst()
            }
            guard let next else { return }
            next()
        }
    }
}

/// An engine handed between a worker's task and its ``EngineThread``.
///
/// Engines are not `Sendable` (each holds a decoder, a sidecar or a connection and is not thread-safe).
/// A worker only ever uses its engines inside ``EngineThread/run(_:)`` calls on its one thread, one at a
/// time, so moving the reference there and back is safe; this box says so in one place.
struct EngineHandle: @unchecked Sendable {
    let engine: any TranscriptionEngine
}
