import Foundation

/// Runs blocking work (a child process, a `psql` call) on a thread of its own and awaits it.
///
/// Swift's cooperative pool has about one thread per core (two here); a test that blocks one of them
/// for a second or more while dozens of tests run at once starves every async test beside it, and
/// their database connections miss their deadlines. Blocking work started from async code goes here.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
