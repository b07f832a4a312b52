public import Foundation

/// How a webhook delivery that failed (a non-2xx answer, a timeout, a refused connection) is retried:
/// exponential backoff with jitter, for at least `giveUpAfter` (24 h by default, the window most
/// receivers' outages fit in), then dead-lettered.
public struct WebhookRetryPolicy: Sendable, Equatable {
    /// The wait after the first failure; it doubles with each further one.
    public var baseDelay: Duration
    /// No wait is longer than this.
    public var maximumDelay: Duration
    /// The wait varies by ± this fraction, so a receiver coming back is not hit by every event at once.
    public var jitter: Double
    /// After this long since the event was queued (or redelivered), a failure dead-letters it.
    public var giveUpAfter: Duration

    public init(
        baseDelay: Duration = .seconds(5),
        maximumDelay: Duration = .seconds(3600),
        jitter: Double = 0.2,
        giveUpAfter: Duration = .seconds(24 * 3600)
    ) {
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.giveUpAfter = giveUpAfter
    }

    /// How long to wait after the `attempts`-th failure at `now` before trying again, or nil to dead-letter
    /// the event (its give-up time, counted from `armedAt`, has passed). `random` is in 0..<1.
    public func delay(afterAttempt attempts: Int, armedAt: Date, now: Date, random: Double) -> Duration? {
        guard now < armedAt.addingTimeInterval(Self.seconds(giveUpAfter)) else { return nil }
        let base = Self.seconds(baseDelay)
        let exponential = min(Self.seconds(maximumDelay), base * Double(1 << min(max(attempts - 1, 0), 30)))
        return .milliseconds(Int64(max(0, exponential * (1 + jitter * (2 * random - 1))) * 1000))
    }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
