internal import NIOCore
internal import NIOPosix

/// Where synchronous reading of objects runs, and the one place it blocks on the async store.
///
/// ``SealedFileReader`` and ``SealedRecordingReader`` are synchronous (they hand out segments in a
/// buffer they reuse); ``ObjectStore`` is async. An ``ObjectByteSource`` bridges the two by waiting
/// on its thread for each ranged GET, which runs as a task on Swift's cooperative pool. Waiting like
/// that on a cooperative thread (about one per core: two here) can starve the very task waited for
/// and hang the process, and waiting on an event loop stops the loop the HTTP client needs. So
/// reading runs on a pool of threads of its own (``run(_:)``), and a wait anywhere else is refused
/// with an error instead of risking a deadlock.
///
/// The pool is not `NIOThreadPool.singleton`: ``LocalObjectStore`` does its file calls there, so
/// readers blocked on that pool's threads could wait for work that can never start.
public enum ObjectReading {
    /// Threads that may block in reads at once; more concurrent ``run(_:)`` calls queue.
    public static let threadCount = max(4, 2 * System.coreCount)

    /// Started on first use and never shut down (a process-wide resource, as NIO's singletons).
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` — typically a ``SealedRecordingReader`` over ``ObjectByteSource``s, with what is
    /// done with each segment — on a reading thread, and returns its result.
    ///
    /// The caller's task suspends meanwhile; cancelling it does not interrupt `body`.
    public static func run<T: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            // `.cancelled` comes only from a pool being shut down, which this one never is.
            pool.submit { _ in continuation.resume(returning: Result { () throws(Failure) -> T in try body() }) }
        }
        return try result.get()
    }

    /// Waits on the calling thread for `operation`, which runs as a task.
    ///
    /// Allowed on any thread outside Swift concurrency and SwiftNIO's event loops (a ``run(_:)``
    /// thread, the main thread of a synchronous program, a thread of the caller's own); elsewhere it
    /// throws `invalidArgument` saying so rather than risk a deadlock.
    public static func wait<T: Sendable>(
        _ operation: @escaping @Sendable () async throws(ObjectStoreError) -> T
    ) throws(ObjectStoreError) -> T {
        if let refusal = blockingRefusal { throw ObjectStoreError(.invalidArgument, refusal) }
        let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: T.self)
        promise.completeWithTask { try await operation() }
        do {
            return try promise.futureResult.wait()
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.unavailable, "an object store call failed: \(error)")
        }
    }

    /// Why the calling thread must not block waiting for a task, or nil when it may.
    static var blockingRefusal: String? {
        if withUnsafeCurrentTask(body: { $0 != nil }) {
            return "an object was read synchronously inside a Swift task, where waiting for the store can "
                + "deadlock the cooperative thread pool; read it inside ObjectReading.run { ... }"
        }
        if MultiThreadedEventLoopGroup.currentEventLoop != nil {
            return "an object was read synchronously on a SwiftNIO event loop, which would stop the loop; "
                + "read it inside ObjectReading.run { ... }"
        }
        return nil
    }
}
