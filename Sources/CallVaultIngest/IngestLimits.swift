public import NIOCore
import Synchronization

/// What one server accepts: concurrent streams per tenant and in all, silence on a stream, the length
/// of a call. A stream over a limit is closed with a reason naming it; no other stream is touched.
public struct IngestLimits: Sendable, Equatable {
    /// Streams one tenant may have open at once (a Twilio call is one stream; a binary call, one per track).
    public var maximumStreamsPerTenant: Int
    /// Streams open at once, all tenants together.
    public var maximumStreams: Int
    /// A stream that has sent no media for this long is finished (its recordings sealed `complete`) and closed.
    public var idleTimeout: Duration
    /// A call streaming longer than this is finished and closed.
    public var maximumCallDuration: Duration

    public init(
        maximumStreamsPerTenant: Int = 500, maximumStreams: Int = 5_000, idleTimeout: Duration = .seconds(30),
        maximumCallDuration: Duration = .seconds(4 * 3600)
    ) {
        self.maximumStreamsPerTenant = maximumStreamsPerTenant
        self.maximumStreams = maximumStreams
        self.idleTimeout = idleTimeout
        self.maximumCallDuration = maximumCallDuration
    }

    /// How often a stream checks its clocks: often enough that a timeout is late by at most a quarter of it.
    public var tickInterval: TimeAmount {
        let quarter = min(idleTimeout, maximumCallDuration) / 4
        let nanoseconds = quarter.components.seconds * 1_000_000_000 + quarter.components.attoseconds / 1_000_000_000
        return .nanoseconds(max(10_000_000, min(1_000_000_000, nanoseconds)))
    }

    /// A stream clock that can run out; the raw value names it in metrics (`limit.…`) and the audit log.
    enum Clock: String, Sendable {
        case idleTimeout
        case callDuration
    }

    /// The clock of a stream that ran out, or nil.
    func expired(startedAt: NIODeadline, lastMediaAt: NIODeadline, now: NIODeadline) -> Clock? {
        if now - lastMediaAt >= Self.timeAmount(idleTimeout) { return .idleTimeout }
        if now - startedAt >= Self.timeAmount(maximumCallDuration) { return .callDuration }
        return nil
    }

    /// How long `clock` runs.
    func duration(of clock: Clock) -> Duration {
        switch clock {
        case .idleTimeout: idleTimeout
        case .callDuration: maximumCallDuration
        }
    }

    /// The close of a stream whose `clock` ran out: 1000, since the call is finished like a hang-up.
    func close(_ clock: Clock) -> MediaClose {
        switch clock {
        case .idleTimeout:
            MediaClose(code: 1000, reason: "idle timeout: no media for \(idleTimeout.components.seconds) s")
        case .callDuration:
            MediaClose(
                code: 1000, reason: "maximum call duration of \(maximumCallDuration.components.seconds) s reached")
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

/// Counts open streams per tenant and in all, and admits a new one only under the limits.
/// Touched at stream start and end, never per frame.
public final class StreamAdmission: Sendable {
    private struct Counts {
        var total = 0
        var perTenant: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())
    public let limits: IngestLimits

    public init(limits: IngestLimits) {
        self.limits = limits
    }

    /// Admits one stream of `tenantID`, or returns the close that refuses it (1013: try again later).
    func admit(tenantID: String) -> (MediaClose, kind: String)? {
        counts.withLock { counts in
            if counts.total >= limits.maximumStreams {
                return (MediaClose(code: 1013, reason: "server stream limit (\(limits.maximumStreams)) reached"), "limit.streams")
            }
            if counts.perTenant[tenantID, default: 0] >= limits.maximumStreamsPerTenant {
                return (
                    MediaClose(code: 1013, reason: "tenant stream limit (\(limits.maximumStreamsPerTenant)) reached"),
                    "limit.tenantStreams"
                )
            }
            counts.total += 1
            counts.perTenant[tenantID, default: 0] += 1
            return nil
        }
    }

    /// Releases a stream admitted for `tenantID`.
    func release(tenantID: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.perTenant[tenantID, default: 1] - 1
            counts.perTenant[tenantID] = left > 0 ? left : nil
        }
    }

    /// Streams open now (all tenants).
    public var openStreams: Int { counts.withLock { $0.total } }
}
