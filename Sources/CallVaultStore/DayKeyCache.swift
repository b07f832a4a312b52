import CallVaultCrypto
import Synchronization

/// Unwrapped day keys that a key provider wrapped, kept in memory for a bounded time so that creating
/// a data key does not cost a provider round trip each time (one per tenant, kind and day per TTL).
///
/// Bounded twice: an entry lives at most `timeToLive`, and at most `capacity` entries are kept (the one
/// closest to expiry is dropped first). ``KeyStore`` drops the entries of day keys it destroys. Keys are
/// held by reference only; nothing here is ever logged or copied out.
final class DayKeyCache: Sendable {
    let timeToLive: Duration
    let capacity: Int

    private struct Entry {
        let key: SecretKey
        let expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// - Parameters:
    ///   - timeToLive: how long an unwrapped day key is kept (5 minutes by default).
    ///   - capacity: how many day keys are kept at most.
    init(timeToLive: Duration = .seconds(300), capacity: Int = 1024) {
        self.timeToLive = timeToLive
        self.capacity = max(0, capacity)
    }

    /// The cached key of the day key `keyID`, or nil when absent or expired.
    func key(_ keyID: String, now: ContinuousClock.Instant = .now) -> SecretKey? {
        entries.withLock { entries -> SecretKey? in
            guard let entry = entries[keyID] else { return nil }
            guard entry.expires > now else {
                entries[keyID] = nil
                return nil
            }
            return entry.key
        }
    }

    /// When the cached key of the day key `keyID` expires, or nil when it is absent or expired.
    func expiry(_ keyID: String, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        entries.withLock { entries -> ContinuousClock.Instant? in
            guard let entry = entries[keyID], entry.expires > now else { return nil }
            return entry.expires
        }
    }

    /// Keeps `key` for the day key `keyID` for the time to live.
    func insert(_ key: SecretKey, for keyID: String, now: ContinuousClock.Instant = .now) {
        guard capacity > 0, timeToLive > .zero else { return }
        entries.withLock { entries in
            if entries[keyID] == nil, entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                while entries.count >= capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires }) {
                    entries[oldest.key] = nil
                }
            }
            entries[keyID] = Entry(key: key, expires: now + timeToLive)
        }
    }

    /// Drops the day keys `keyIDs` (destroyed).
    func remove(_ keyIDs: some Sequence<String>) {
        entries.withLock { entries in
            for keyID in keyIDs { entries[keyID] = nil }
        }
    }

    /// How many entries are held (expired ones included until next touched).
    var count: Int { entries.withLock { $0.count } }
}
