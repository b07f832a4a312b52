import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// Playback of a call: a POST with a reason (and an override reason for a restricted recording,
/// ``AuditedAccess``) decrypts both tracks through ``CallAudio`` — ``RecordingExporter`` writes
/// `recording.decrypted` (and `recording.restriction_overridden`) with the operator and the reason
/// before any key is unwrapped — and keeps the opened tracks (``StereoCallAudio``: their index and keys,
/// no audio) in the session for a few minutes; the `<audio>` element then GETs the WAV, streamed, from a
/// same-origin URL that carries no secret, served `no-store`. The grant is also kept in the catalog, so a
/// request that a load balancer sends to another node opens the call there (audited there too).
/// Viewers are refused.
struct PlaybackAction {
    let console: Console
    let session: ConsoleSession

    func grant(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let call: CallRecord
        switch await console.visibleCallOrResponse(callID, session: session) {
        case .success(let found): call = found
        case .failure(let failure): return failure.response
        }
        if let refused = AuditedAccess.refusedBelowAgent(call, session: session) { return refused }
        let audio = CallAudio(console: console, session: session)
        let recordings: [RecordingRecord]
        switch await audio.readableRecordings(call) {
        case .success(let found): recordings = found
        case .failure(let failure): return failure.response
        }
        let access: AuditedAccess
        switch await AuditedAccess.check(
            call: call, restricted: recordings.contains(where: \.restricted), request: request, doing: "listening",
            console: console, session: session)
        {
        case .success(let found): access = found
        case .failure(let failure): return failure.response
        }
        let stereo: StereoCallAudio
        switch await audio.stereo(call: call, recordings: recordings, access: access, purpose: "console playback") {
        case .success(let opened): stereo = opened
        case .failure(let failure): return failure.response
        }
        // Shared through the catalog, so that whichever node the player's requests reach can open the call
        // (auditing its own decryption with the same reasons). A catalog that cannot take it leaves the
        // grant to this node alone.
        let expires = Date() + console.sessions.playbackSeconds
        var shared: Date? = expires
        do {
            try await console.catalog.grantConsolePlayback(
                sessionID: session.key, callID: call.id, reason: access.reason,
                overrideReason: access.restrictionOverride?.reason, expires: expires)
        } catch {
            shared = nil
            console.logger.warning("console playback granted on this node only", metadata: ["error": "\(error.message)"])
        }
        console.sessions.grantPlayback(key: session.key, callID: call.id, audio: stereo, sharedUntil: shared)
        return .redirect("/calls/\(FormEncoding.escape(call.id))#playback")
    }

    /// Whether this session may play the call now: a grant this node holds, or one the catalog holds
    /// from another node (false when the catalog cannot answer: the page then offers Play again).
    func isGranted(callID: String) async -> Bool {
        if console.sessions.playback(key: session.key, callID: callID) != nil { return true }
        let now = Date()
        return (try? await console.catalog.consolePlayback(sessionID: session.key, callID: callID, at: now, extendTo: now)) != nil
    }

    /// The opened audio of this session's grant for the call: this node's (keeping the catalog's copy
    /// alive), or opened here from the catalog's grant another node made, audited as a decryption on
    /// this node with the grant's reasons. Nil without a grant.
    private func grantedAudio(_ call: CallRecord) async -> Result<StereoCallAudio?, ConsoleFailure> {
        let lifetime = console.sessions.playbackSeconds
        let now = Date()
        if let (audio, sharedUntil) = console.sessions.playback(key: session.key, callID: call.id) {
            // The catalog's copy is extended once half of it has run, not on every Range request.
            if let sharedUntil, sharedUntil < now + lifetime / 2,
                let grant = try? await console.catalog.consolePlayback(
                    sessionID: session.key, callID: call.id, at: now, extendTo: now + lifetime)
            {
                console.sessions.sharedPlayback(key: session.key, callID: call.id, until: grant.expires)
            }
            return .success(audio)
        }
        let grant: ConsolePlaybackGrant?
        do {
            grant = try await console.catalog.consolePlayback(sessionID: session.key, callID: call.id, at: now, extendTo: now + lifetime)
        } catch {
            return .failure(ConsoleFailure(response: .problem(503, "Catalog unavailable", error.message, session: session)))
        }
        guard let grant else { return .success(nil) }
        let audio = CallAudio(console: console, session: session)
        let recordings: [RecordingRecord]
        switch await audio.readableRecordings(call) {
        case .success(let found): recordings = found
        case .failure(let failure): return .failure(failure)
        }
        let access = AuditedAccess(reason: grant.reason, restrictionOverride: grant.overrideReason.map(RestrictionOverride.init))
        switch await audio.stereo(call: call, recordings: recordings, access: access, purpose: "console playback") {
        case .success(let stereo):
            console.sessions.grantPlayback(key: session.key, callID: call.id, audio: stereo, sharedUntil: grant.expires)
            return .success(stereo)
        case .failure(let failure):
            return .failure(failure)
        }
    }

    /// The granted WAV, whole or the byte range asked for (browsers seek with `Range`), streamed: only
    /// the segments the range covers are decrypted. 404 without a grant of this session for this call,
    /// so the URL alone opens nothing; requests under a grant are not audited again (the grant was).
    func audio(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let call: CallRecord
        switch await console.visibleCallOrResponse(callID, session: session) {
        case .success(let found): call = found
        case .failure(let failure): return failure.response
        }
        let audio: StereoCallAudio
        switch await grantedAudio(call) {
        case .success(let granted?): audio = granted
        case .success(nil): return .notFound(session: session)
        case .failure(let failure): return failure.response
        }
        let length = audio.byteCount
        switch request.header("range").map({ Self.byteRange($0, length: length) }) {
        case .range(let range)?:
            return ConsoleResponse(
                status: 206, contentType: "audio/wav", stream: audio.body(range),
                headers: [("content-range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(length)"), ("accept-ranges", "bytes")])
        case .unsatisfiable?:
            return ConsoleResponse(
                status: 416, contentType: "text/plain; charset=utf-8", body: [],
                headers: [("content-range", "bytes */\(length)"), ("accept-ranges", "bytes")])
        case .ignored?, nil:
            return ConsoleResponse(
                status: 200, contentType: "audio/wav", stream: audio.body(0..<length), headers: [("accept-ranges", "bytes")])
        }
    }

    /// What a `Range` header asks of a body of `length` bytes.
    enum ByteRange: Equatable {
        /// These bytes (206).
        case range(Range<Int>)
        /// None of the body's bytes (416).
        case unsatisfiable
        /// Not a single byte range this server serves (several ranges, another unit, bad syntax): the
        /// whole body is sent (200), as RFC 9110 allows.
        case ignored
    }

    /// `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX` within `length` (an END past the end is cut
    /// to it, a SUFFIX longer than the body is all of it).
    static func byteRange(_ header: String, length: Int) -> ByteRange {
        let header = header.trimmingCharacters(in: .whitespaces)
        guard header.lowercased().hasPrefix("bytes=") else { return .ignored }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else { return .ignored }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .ignored }
        let (first, last) = (Int(parts[0]), Int(parts[1]))
        if parts[0].isEmpty {
            guard let suffix = last, suffix >= 0 else { return .ignored }
            guard suffix > 0, length > 0 else { return .unsatisfiable }
            return .range(max(0, length - suffix)..<length)
        }
        guard let start = first, start >= 0 else { return .ignored }
        if !parts[1].isEmpty {
            guard let end = last, end >= start else { return .ignored }
            guard start < length else { return .unsatisfiable }
            return .range(start..<(min(end, length - 1) + 1))
        }
        guard start < length else { return .unsatisfiable }
        return .range(start..<length)
    }
}
