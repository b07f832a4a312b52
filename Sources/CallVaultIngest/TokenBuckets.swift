import Synchronization

/// Token buckets by key (a tenant's id, a source address), in memory: each holds up to `burst` tokens
/// and gains `rate` a second; a request that finds one takes it, one that finds none waits.
///
/// The clock is a parameter of each call (`at:`), so a test can walk time without sleeping. The table
/// forgets full buckets (they hold no state) when it reaches `maximumKeys`, so keys sent by a client
/// cannot grow it without bound; if it is still full then, it starts over (every bucket full again).
final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// Tokens gained per second.
    let rate: Double
    /// The most a bucket holds: how many requests may come at once after a quiet spell.
    let burst: Double
    let maximumKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double, maximumKeys: Int = 10_000) {
        precondition(rate > 0 && burst >= 1 && maximumKeys > 0)
        self.rate = rate
        self.burst = burst
        self.maximumKeys = maximumKeys
    }

    /// Takes a token from `key`'s bucket: nil when there was one, else how long until there is.
    func take(_ key: String, at now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = refilled(buckets[key], at: now)
            defer { store(bucket, for: key, in: &buckets, at: now) }
            guard bucket.tokens >= 1 else { return wait(for: bucket) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// How long until `key`'s bucket holds a token, or nil when it holds one now (nothing is taken).
    func wait(_ key: String, at now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            let bucket = refilled(buckets[key], at: now)
            return bucket.tokens >= 1 ? nil : wait(for: bucket)
        }
    }

    private func refilled(_ bucket: Bucket?, at now: ContinuousClock.Instant) -> Bucket {
        guard var bucket else { return Bucket(tokens: burst, updated: now) }
        if now > bucket.updated {
            bucket.tokens = min(burst, bucket.tokens + Self.seconds(now - bucket.updated) * rate)
            bucket.updated = now
        }
        return bucket
    }

    private func wait(for bucket: Bucket) -> Duration {
        .milliseconds(Int64(((1 - bucket.tokens) / rate * 1000).rounded(.up)))
    }

    private func store(_ bucket: Bucket, for key: String, in buckets: inout [String: Bucket], at now: ContinuousClock.Instant) {
        if buckets[key] == nil, buckets.count >= maximumKeys {
            buckets = buckets.filter { refilled($0.value, at: now).tokens < burst }
            if buckets.count >= maximumKeys { buckets.removeAll(keepingCapacity: true) }
        }
        buckets[key] = bucket
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
