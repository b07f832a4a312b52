import Foundation
import Glibc
public import Testing

/// A small pool of ordinary threads that runs the tests which block a thread while they wait.
///
/// Swift's cooperative pool has one thread per core (two on the CI machines). A synchronous test that
/// waits seconds for a child process, or polls a file, holds one of them; two such tests at once and
/// every async test beside them stops: their database connections, sockets and timeouts resume minutes
/// late. Suites that wait like that run their tests here instead (``Trait/blockingWaits``), and the
/// cooperative pool stays free. The pool is fixed (``width`` threads), which also bounds how many of
/// these heavy tests (each starts servers and processes) run at once on a two-core machine.
public final class BlockingTestExecutor: TaskExecutor, @unchecked Sendable {
    /// The pool the ``Trait/blockingWaits`` trait uses.
    public static let shared = BlockingTestExecutor(width: 6)

    /// How many threads run jobs.
    public let width: Int
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0
    private var threads: Set<pthread_t> = []

    init(width: Int) {
        self.width = width
        for index in 0..<width {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "blocking-test-\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Whether the calling thread is one of the pool's (for the test that checks the trait works).
    public var runsCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return threads.contains(pthread_self())
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        threads.insert(pthread_self())
        condition.unlock()
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next > 1024 {
                // Drop what has run, now and then, instead of shifting the array on every job.
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test of a suite on ``BlockingTestExecutor/shared`` instead of the cooperative pool.
public struct BlockingWaitsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // A suite's own scope is provided once around all its tests; only a test case runs a body.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(BlockingTestExecutor.shared) {
            try await function()
        }
    }
}

extension Trait where Self == BlockingWaitsTrait {
    /// The tests wait on child processes, files or sockets by blocking a thread: run them on a pool of
    /// their own (``BlockingTestExecutor``) so they cannot starve the async tests running beside them.
    public static var blockingWaits: Self { Self() }
}

