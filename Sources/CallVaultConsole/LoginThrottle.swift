import Synchronization

/// Slows password guessing: after a few wrong passwords for one account from one address, sign-in for
/// that pair is refused (429) for a while, doubling with each further failure. A success clears it.
final class LoginThrottle: Sendable {
    private struct Record {
        var failures = 0
        var lockedUntil: ContinuousClock.Instant?
    }

    private let records = Mutex<[String: Record]>([:])
    let failuresBeforeLockout: Int
    let lockout: Duration
    let maximumLockout: Duration

    init(failuresBeforeLockout: Int, lockout: Duration, maximumLockout: Duration) {
        self.failuresBeforeLockout = failuresBeforeLockout
        self.lockout = lockout
        self.maximumLockout = maximumLockout
    }

    /// How long this pair must still wait, or nil when it may try.
    func wait(name: String, address: String) -> Duration? {
        let now = ContinuousClock.now
        return records.withLock { records in
            guard let until = records[Self.key(name, address)]?.lockedUntil, until > now else { return nil }
            return until - now
        }
    }

    func recordFailure(name: String, address: String) {
        let now = ContinuousClock.now
        records.withLock { records in
            // Guesses at many names must not grow the table without bound: past 10,000 pairs, those not
            // locked now are forgotten (a locked pair stays locked).
            if records.count >= 10_000 { records = records.filter { ($0.value.lockedUntil ?? now) > now } }
            var record = records[Self.key(name, address)] ?? Record()
            record.failures += 1
            let over = record.failures - failuresBeforeLockout
            if over >= 0 {
                var wait = lockout
                for _ in 0..<min(over, 16) where wait < maximumLockout { wait = wait * 2 }
                record.lockedUntil = now + min(wait, maximumLockout)
            }
            records[Self.key(name, address)] = record
        }
    }

    func recordSuccess(name: String, address: String) {
        _ = records.withLock { $0.removeValue(forKey: Self.key(name, address)) }
    }

    private static func key(_ name: String, _ address: String) -> String { name + "\u{0}" + address }
}
