import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization

/// The console's sessions.
///
/// A session (who, since when, last used) is a row in the catalog keyed by the SHA-256 of the cookie's
/// token, so every node sharing the catalog knows it: a load balancer may send each request to any node,
/// a node's restart signs nobody out, and a sign-out (or `callvault operator sign-out`) ends it on every
/// node. Neither the token nor the CSRF token is stored: the CSRF token is derived from the cookie's token.
///
/// What a session opens stays in the memory of the node that opened it: a playback grant (the tracks'
/// index and data keys) and a looked-up caller (the number, which is never written anywhere). Another
/// node does not have them, so the operator grants or looks up again there (docs/console.md).
final class ConsoleSessions: Sendable {
    /// What this node holds for one session.
    struct Local {
        /// The opened stereo audio per call id, granted by an audited POST and streamed to `<audio>`.
        var playbacks: [String: Playback] = [:]
        /// The caller looked up on the subject-requests page, so that export and erasure need not carry
        /// the number in a form field, a URL or the page.
        var subject: SubjectLookup?

        func isEmpty(at now: ContinuousClock.Instant) -> Bool {
            playbacks.values.allSatisfy { $0.expires <= now } && (subject.map { $0.expires <= now } ?? true)
        }
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
        /// Until when the catalog's copy of the grant lets other nodes open it (nil: not shared).
        var sharedUntil: Date?
    }

    /// A session as a request finds it.
    struct Live {
        let key: String
        let operatorName: String
        let csrf: String
    }

    private let catalog: any CatalogStore
    private let local = Mutex<[String: Local]>([:])
    let idleTimeout: Duration
    let playbackLifetime: Duration
    let subjectLifetime: Duration

    init(
        catalog: any CatalogStore, idleTimeout: Duration, playbackLifetime: Duration,
        subjectLifetime: Duration = .seconds(10 * 60)
    ) {
        self.catalog = catalog
        self.idleTimeout = idleTimeout
        self.playbackLifetime = playbackLifetime
        self.subjectLifetime = subjectLifetime
    }

    /// Starts a session, audited `operator.signed_in` with `details` in the same transaction; returns the
    /// cookie's token (shown to the browser only) and the CSRF token. The error says why, for a 503.
    func start(operatorName: String, details: [String: String]) async throws(ConsoleSessionError) -> (token: String, csrf: String) {
        let token: String
        do { token = Hex.encode(try SecureRandom.bytes(32)) } catch { throw ConsoleSessionError(message: error.message) }
        let now = Date()
        do {
            try await catalog.startConsoleSession(
                id: Self.key(token), operatorName: operatorName, details: details, idleBefore: now - WebhookRetryPolicy.seconds(idleTimeout),
                at: now)
        } catch {
            throw ConsoleSessionError(message: error.message)
        }
        return (token, Self.csrf(token))
    }

    /// The live session of a cookie token (refreshing its idle clock now and then), or nil when there is
    /// none or it went idle. Throws when the catalog cannot answer (the session is kept for the next try).
    func touch(token: String) async throws(CatalogError) -> Live? {
        guard token.utf8.count == 64 else { return nil }
        let key = Self.key(token)
        let now = Date()
        // The last use is written at most every twentieth of the idle timeout (at most a minute), so a
        // session costs a write a minute, not a write a request; it then ends that much early at worst.
        let refreshEvery = min(WebhookRetryPolicy.seconds(idleTimeout) / 20, 60)
        guard
            let name = try await catalog.touchConsoleSession(
                id: key, idleBefore: now - WebhookRetryPolicy.seconds(idleTimeout), refreshBefore: now - refreshEvery, at: now)
        else {
            forget(key: key)
            return nil
        }
        sweepLocal(key: key)
        return Live(key: key, operatorName: name, csrf: Self.csrf(token))
    }

    /// Ends the session (sign-out) on every node, audited `operator.signed_out`.
    func end(key: String, operatorName: String) async throws(CatalogError) {
        forget(key: key)
        _ = try await catalog.endConsoleSessions(id: key, operatorName: nil, actor: "console:\(operatorName)", at: Date())
    }

    /// Forgets what this node holds for a session (its row is already gone, or going).
    func forget(key: String) { _ = local.withLock { $0.removeValue(forKey: key) } }

    /// Keeps `audio` (opened tracks: their index and data keys, no audio) for this session's `<audio>`
    /// element; a session holds one playback at a time (a new grant replaces the last).
    func grantPlayback(key: String, callID: String, audio: StereoCallAudio, sharedUntil: Date?) {
        let now = ContinuousClock.now
        local.withLock { local in
            local = local.filter { !$0.value.isEmpty(at: now) }
            local[key, default: Local()].playbacks = [
                callID: Playback(audio: audio, expires: now + playbackLifetime, sharedUntil: sharedUntil)
            ]
        }
    }

    /// The audio granted to this session for this call on this node, while its grant lasts; each request
    /// for it extends the grant by the playback lifetime, so a long call can still be seeked while it
    /// plays. `sharedUntil` says until when the catalog's copy lets other nodes open it.
    func playback(key: String, callID: String) -> (audio: StereoCallAudio, sharedUntil: Date?)? {
        let now = ContinuousClock.now
        return local.withLock { local in
            guard let playback = local[key]?.playbacks[callID], playback.expires > now else { return nil }
            local[key]?.playbacks[callID]?.expires = now + playbackLifetime
            return (playback.audio, playback.sharedUntil)
        }
    }

    /// Notes that the catalog's copy of this session's grant was extended to `until`.
    func sharedPlayback(key: String, callID: String, until: Date) {
        local.withLock { $0[key]?.playbacks[callID]?.sharedUntil = until }
    }

    /// How long a grant lasts after its last use, in seconds (for the catalog's copy).
    var playbackSeconds: TimeInterval { WebhookRetryPolicy.seconds(playbackLifetime) }

    /// Keeps the looked-up caller for this session (replacing any other, with no erasure asked yet).
    func rememberSubject(key: String, tenantID: String, phoneNumber: String) {
        let now = ContinuousClock.now
        local.withLock { local in
            local = local.filter { !$0.value.isEmpty(at: now) }
            local[key, default: Local()].subject = SubjectLookup(
                tenantID: tenantID, phoneNumber: phoneNumber, erasureCode: nil, expires: now + subjectLifetime)
        }
    }

    /// The caller this session looked up, while the lookup lasts.
    func subject(key: String) -> SubjectLookup? {
        let now = ContinuousClock.now
        return local.withLock { local in
            guard let subject = local[key]?.subject, subject.expires > now else { return nil }
            return subject
        }
    }

    /// Sets the erasure code the operator must type back; false when the lookup has gone.
    func setErasureCode(key: String, _ code: String) -> Bool {
        local.withLock { local in
            guard local[key]?.subject != nil else { return false }
            local[key]?.subject?.erasureCode = code
            return true
        }
    }

    /// Forgets the looked-up caller (after erasure: the code is single-use).
    func forgetSubject(key: String) { local.withLock { $0[key]?.subject = nil } }

    /// Drops this session's expired grant and lookup.
    private func sweepLocal(key: String) {
        let now = ContinuousClock.now
        local.withLock { local in
            guard var entry = local[key] else { return }
            entry.playbacks = entry.playbacks.filter { $0.value.expires > now }
            if let subject = entry.subject, subject.expires <= now { entry.subject = nil }
            local[key] = entry.isEmpty(at: now) ? nil : entry
        }
    }

    /// The session's key in the catalog: the SHA-256 of the cookie's token.
    static func key(_ token: String) -> String { Digest.sha256Hex(Array(token.utf8)) }

    /// The session's CSRF token, derived from the cookie's token in another domain than ``key(_:)``, so
    /// neither the catalog's row nor a page's form gives the other.
    static func csrf(_ token: String) -> String { Digest.sha256Hex(Array("callvault console csrf\u{0}".utf8) + Array(token.utf8)) }
}

/// A session that could not be started, with the reason for the 503 page.
struct ConsoleSessionError: Error {
    let message: String
}
