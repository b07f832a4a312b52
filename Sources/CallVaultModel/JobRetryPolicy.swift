/// How a failed job is retried: exponential backoff with jitter, then the dead-letter state.
public struct JobRetryPolicy: Sendable, Equatable {
    /// Attempts before a job is dead-lettered (the first try included).
    public var maximumAttempts: Int
    /// The wait after the first failure; it doubles with each further one.
    public var baseDelay: Duration
    /// No wait is longer than this.
    public var maximumDelay: Duration
    /// The wait varies by ± this fraction, so failed jobs do not all come back at once.
    public var jitter: Double

    public init(
        maximumAttempts: Int = 5, baseDelay: Duration = .seconds(30), maximumDelay: Duration = .seconds(3600),
        jitter: Double = 0.2
    ) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// Seconds to wait after the `attempts`-th failed attempt; `random` is in 0..<1.
    public func delaySeconds(afterAttempt attempts: Int, random: Double) -> Double {
        let base = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) / 1e18
        let cap = Double(maximumDelay.components.seconds)
        let exponential = min(cap, base * Double(1 << min(max(attempts - 1, 0), 30)))
        return max(0, exponential * (1 + jitter * (2 * random - 1)))
    }
}
