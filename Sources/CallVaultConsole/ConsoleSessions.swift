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
        /// The opened stereo audio per call id, granted by an audited POST and streamed to `<audio>`.
        var playbacks: [String: Playback] = [:]
        /// The caller looked up on the subject-requests page, so that export and erasure need not carry
        /// the number in a form field, a URL or the page.
        var subject: SubjectLookup?
    }

    /// A data subject being handled: the tenant, the number as typed (memory only), and the erasure
    /// code shown once erasure was asked for, to be typed back.
    struct SubjectLookup {
        var tenantID: String
        var phoneNumber: String
        var erasureCode: String?
        var expires: ContinuousClock.Instant
    }

    struct Playback {
        var audio: StereoCallAudio
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    let idleTimeout: Duration
    let playbackLifetime: Duration
    let subjectLifetime: Duration

    init(idleTimeout: Duration, playbackLifetime: Duration, subjectLifetime: Duration = .seconds(10 * 60)) {
        self.idleTimeout = idleTimeout
        self.playbackLifetime = playbackLifetime
        self.subjectLifetime = subjectLifetime
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
            if let subject = entry.subject, subject.expires <= now { entry.subject = nil }
            entries[key] = entry
            return (key, entry.operatorName, entry.csrfToken)
        }
    }

    func end(key: String) { _ = entries.withLock { $0.removeValue(forKey: key) } }

    /// Keeps `audio` (opened tracks: their index and data keys, no audio) for this session's `<audio>`
    /// element; a session holds one playback at a time (a new grant replaces the last).
    func grantPlayback(key: String, callID: String, audio: StereoCallAudio) {
        let expires = ContinuousClock.now + playbackLifetime
        entries.withLock { $0[key]?.playbacks = [callID: Playback(audio: audio, expires: expires)] }
    }

    /// The audio granted to this session for this call, while its grant lasts; each request for it
    /// extends the grant by the playback lifetime, so a long call can still be seeked while it plays.
    func playback(key: String, callID: String) -> StereoCallAudio? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let playback = entries[key]?.playbacks[callID], playback.expires > now else { return nil }
            entries[key]?.playbacks[callID]?.expires = now + playbackLifetime
            return playback.audio
        }
    }

    /// Keeps the looked-up caller for this session (replacing any other, with no erasure asked yet).
    func rememberSubject(key: String, tenantID: String, phoneNumber: String) {
        let expires = ContinuousClock.now + subjectLifetime
        entries.withLock {
            $0[key]?.subject = SubjectLookup(tenantID: tenantID, phoneNumber: phoneNumber, erasureCode: nil, expires: expires)
        }
    }

    /// The caller this session looked up, while the lookup lasts.
    func subject(key: String) -> SubjectLookup? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let subject = entries[key]?.subject, subject.expires > now else { return nil }
            return subject
        }
    }

    /// Sets the erasure code the operator must type back; false when the lookup has gone.
    func setErasureCode(key: String, _ code: String) -> Bool {
        entries.withLock { entries in
            guard entries[key]?.subject != nil else { return false }
            entries[key]?.subject?.erasureCode = code
            return true
        }
    }

    /// Forgets the looked-up caller (after erasure: the code is single-use).
    func forgetSubject(key: String) { entries.withLock { $0[key]?.subject = nil } }

    static func key(_ token: String) -> String { Digest.sha256Hex(Array(token.utf8)) }
}
