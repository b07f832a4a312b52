import Foundation

/// Checks `condition` every `interval` until it holds or `timeout` has passed; returns whether it held.
///
/// For waiting on something that happens elsewhere (a child process, a server's event loop, a flush
/// thread) before an exact assertion, instead of a fixed sleep: a sleep long enough on an idle machine
/// is too short under load, and wastes time otherwise. Blocks the calling thread; async tests use
/// ``eventually(timeout:interval:until:)``.
public func poll(
    timeout: Duration = .seconds(10),
    interval: Duration = .milliseconds(10),
    until condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        Thread.sleep(forTimeInterval: interval.timeInterval)
    }
}

/// ``poll(timeout:interval:until:)`` for async tests: sleeps between checks without blocking a thread.
public func eventually(
    timeout: Duration = .seconds(10),
    interval: Duration = .milliseconds(10),
    until condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
