import CallVaultCrypto
import Synchronization

/// The console's sessions, in this process's memory, keyed by the SHA-256 of the cookie's token, so
/// that a memory dump shows no usable cookie. A session ends on sign-out, after the idle timeout, or
/// when the server stops (operators sign in again). Each also holds the playbacks granted to it.
final class ConsoleSessions: Sendable {
    struct Entry {
        var operatorName: String
        var csrfToken: String
        var lastSeen: ContinuousClock.Instant
        /// Decrypted stereo WAV per call id, granted by an audited POST and served to `<audio>`.
        var playbacks: [String: Playback] = [:]
    }

    struct Playback {
        var wav: [UInt8]
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    let idleTimeout: Duration
    let playbackLifetime: Duration

    init(idleTimeout: Duration, playbackLifetime: Duration) {
        self.idleTimeout = idleTimeout
        self.playbackLifetime = playbackLifetime
    }

    /// Starts a session; returns the cookie's token (shown to the browser only) and the CSRF token.
    func start(operatorName: String) throws(CryptoError) -> (token: String, csrf: String) {
        let token = Hex.encode(try SecureRandom.bytes(32))
        let csrf = Hex.encode(try SecureRandom.bytes(32))
        let now = ContinuousClock.now
        entries.withLock { entries in
            // Sweep idle sessions now and then, so the table does not grow without bound.
            entries = entries.filter { now - $0.value.lastSeen < idleTimeout }
            entries[Self.key(token)] = Entry(operatorName: operatorName, csrfToken: csrf, lastSeen: now)
        }
        return (token, csrf)
    }

    /// The live session of a cookie token (refreshing its idle clock), or nil.
    func touch(token: String) -> (key: String, operatorName: String, csrf: String)? {
        guard token.utf8.count == 64 else { return nil }
        let key = Self.key(token)
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard var entry = entries[key] else { return nil }
            guard now - entry.lastSeen < idleTimeout else {
                entries[key] = nil
                return nil
            }
            entry.lastSeen = now
            entry.playbacks = entry.playbacks.filter { $0.value.expires > now }
            entries[key] = entry
            return (key, entry.operatorName, entry.csrfToken)
        }
    }

    func end(key: String) { _ = entries.withLock { $0.removeValue(forKey: key) } }

    /// Keeps `wav` for this session's `<audio>` element; a session holds one playback at a time (a new
    /// grant replaces the last), so decrypted audio in memory is bounded by the number of sessions.
    func grantPlayback(key: String, callID: String, wav: [UInt8]) {
        let expires = ContinuousClock.now + playbackLifetime
        entries.withLock { $0[key]?.playbacks = [callID: Playback(wav: wav, expires: expires)] }
    }

    /// The audio granted to this session for this call, while its grant lasts.
    func playback(key: String, callID: String) -> [UInt8]? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let playback = entries[key]?.playbacks[callID], playback.expires > now else { return nil }
            return playback.wav
        }
    }

    static func key(_ token: String) -> String { Digest.sha256Hex(Array(token.utf8)) }
}
