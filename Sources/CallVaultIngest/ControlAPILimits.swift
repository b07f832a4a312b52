/// The control API's limits, per node and in memory (docs/cli.md, `serve --api-rate`,
/// `--api-token-failures`; docs/operations.md explains them).
public struct ControlAPILimits: Sendable {
    /// Requests a second one tenant may make on the control API's authenticated routes, with bursts of
    /// up to twice that (at least 1); more get 429 with `Retry-After`. 0: no limit.
    public var requestsPerSecond: Double
    /// Unknown tokens one source address may send a minute (as a burst, refilled evenly over the
    /// minute) before its requests that carry a token get 429 with `Retry-After`, whatever token they
    /// carry, until the minute's budget refills. 0: no throttle.
    public var tokenFailuresPerMinute: Int

    public init(requestsPerSecond: Double = 100, tokenFailuresPerMinute: Int = 20) {
        self.requestsPerSecond = requestsPerSecond
        self.tokenFailuresPerMinute = tokenFailuresPerMinute
    }
}
