import NIOCore
package import NIOPosix

/// One call's catalog operations, applied one after another in the order they were issued (register,
/// consent evidence, recording rows, completion, end), off the call's event loop; different calls'
/// queues run concurrently.
///
/// Each operation is a task that first awaits its predecessor, so nothing here blocks a thread while it
/// waits. Used from the call's event loop only (it holds the last task issued).
final class CallCatalogQueue {
    private var last: Task<Void, Never>?
    private let executor: (any TaskExecutor)?

    /// - Parameter executor: where the operations run: the blocking thread pool for the SQLite catalog,
    ///   whose transactions hold their thread (WAL sync, a busy lock); nil (the cooperative pool) for a
    ///   network catalog, whose calls suspend instead.
    init(executor: (any TaskExecutor)?) {
        self.executor = executor
    }

    /// Runs `operation` after every operation issued before it.
    func enqueue(_ operation: @escaping @Sendable () async -> Void) {
        let previous = last
        last = Task(executorPreference: executor) {
            await previous?.value
            await operation()
        }
    }
}

/// Runs tasks on a ``NIOThreadPool``: the SQLite catalog's synchronous transactions then hold a pool
/// thread, never one of Swift's cooperative threads (as many as cores) nor an event loop.
package final class ThreadPoolTaskExecutor: TaskExecutor {
    private let pool: NIOThreadPool

    package init(pool: NIOThreadPool) {
        self.pool = pool
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        pool.submit { _ in job.runSynchronously(on: executor) }
    }
}
