public import Foundation

/// How failed console sign-ins lock a name and address out: after `failuresBeforeLockout` failures, for
/// `lockout`, doubling with each further failure up to `maximumLockout`.
public struct SignInLockout: Sendable, Equatable {
    public var failuresBeforeLockout: Int
    public var lockout: TimeInterval
    public var maximumLockout: TimeInterval

    public init(failuresBeforeLockout: Int, lockout: TimeInterval, maximumLockout: TimeInterval) {
        self.failuresBeforeLockout = failuresBeforeLockout
        self.lockout = lockout
        self.maximumLockout = maximumLockout
    }

    /// How long a pair with `failures` failures is locked out from its last failure (nil: not yet).
    public func lockout(afterFailures failures: Int) -> TimeInterval? {
        let over = failures - failuresBeforeLockout
        guard over >= 0 else { return nil }
        var wait = lockout
        for _ in 0..<min(over, 16) where wait < maximumLockout { wait *= 2 }
        return min(wait, maximumLockout)
    }

    /// The name and address as the catalog keys them: at most 200 bytes each (a guesser's typing is
    /// not stored whole).
    public static func key(_ text: String) -> String {
        var text = text
        while text.utf8.count > 200 { text.removeLast() }
        return text
    }
}
