import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// Playback of a call: a POST with a reason (and an override reason for a restricted recording)
/// decrypts both tracks through ``RecordingExporter`` — which writes `recording.decrypted` (and
/// `recording.restriction_overridden`) with the operator and the reason before any key is unwrapped —
/// and keeps the stereo WAV in the session for a few minutes; the `<audio>` element then GETs it from
/// a same-origin URL that carries no secret, served `no-store`. Viewers are refused.
struct PlaybackAction {
    let console: Console
    let session: ConsoleSession

    func grant(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let call: CallRecord
        switch await console.visibleCallOrResponse(callID, session: session) {
        case .success(let found): call = found
        case .failure(let failure): return failure.response
        }
        guard let role = session.account.role(in: call.tenantId), role >= .agent else {
            return .problem(403, "Forbidden", "Viewers may not play recordings.", session: session)
        }
        let form = request.form
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            var page = await CallPage(console: console, session: session).render(
                callID: callID, request: request, message: "Give a reason for listening (1 to 500 characters).")
            page.status = 400
            return page
        }
        let recordings: [RecordingRecord]
        do { recordings = try await console.catalog.recordings(inCalls: [call.id]).filter { $0.state != .shredded } } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        guard !recordings.isEmpty else {
            return .problem(409, "Nothing to play", "This call has no readable recording.", session: session)
        }
        let longest = recordings.map(\.durationMs).max() ?? 0
        let limit = console.configuration.maximumPlaybackDuration
        guard longest <= limit.components.seconds * 1000 else {
            return .problem(
                413, "Too long to play here",
                "This call is longer than \(limit.components.seconds / 60) minutes: export it with `callvault calls export` (audited).",
                session: session)
        }
        let overrideText = (form["override"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let restrictionOverride = overrideText.isEmpty ? nil : RestrictionOverride(reason: overrideText)
        if let restrictionOverride, !restrictionOverride.isValid {
            return .problem(400, "Bad override reason", "An override reason has 1 to 500 characters.", session: session)
        }
        // Checked before any track is decrypted, so a refusal decrypts nothing (the exporter checks too).
        if restrictionOverride == nil, recordings.contains(where: \.restricted) {
            var page = await CallPage(console: console, session: session).render(
                callID: callID, request: request,
                message: "A recording of this call is restricted: give an override reason to play it (audited).")
            page.status = 403
            return page
        }
        var tracks: [RecordingTrack: ExportedRecording] = [:]
        for recording in recordings {
            do {
                tracks[recording.track] = try await console.exporter.export(
                    recordingID: recording.id, tenantID: call.tenantId, actor: Console.actor(session), purpose: "console playback",
                    restrictionOverride: restrictionOverride, auditDetails: ["reason": reason, "callId": call.id], onTimeline: true)
            } catch {
                console.logger.warning(
                    "console playback failed", metadata: ["call": "\(call.id)", "code": "\(error.code)", "operator": "\(session.account.name)"])
                return .problem(409, "Cannot play", error.message, session: session)
            }
        }
        let rate = tracks.values.map(\.sampleRate).max() ?? 8000
        guard tracks.values.allSatisfy({ $0.sampleRate == rate }) else {
            return .problem(409, "Cannot play", "The tracks have different sample rates.", session: session)
        }
        let left = tracks[.caller]?.samples ?? []
        let right = tracks[.bot]?.samples ?? []
        var stereo = [Int16](repeating: 0, count: max(left.count, right.count) * 2)
        for i in 0..<left.count { stereo[2 * i] = left[i] }
        for i in 0..<right.count { stereo[2 * i + 1] = right[i] }
        console.sessions.grantPlayback(key: session.key, callID: call.id, wav: WAVEncoder.encode(stereo, sampleRate: rate, channels: 2))
        return .redirect("/calls/\(FormEncoding.escape(call.id))#playback")
    }

    /// The granted WAV, whole or the byte range asked for (browsers seek with `Range`); 404 without a
    /// grant of this session for this call, so the URL alone opens nothing.
    func audio(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        if case .failure(let failure) = await console.visibleCallOrResponse(callID, session: session) { return failure.response }
        guard let wav = console.sessions.playback(key: session.key, callID: callID) else { return .notFound(session: session) }
        if let range = request.header("range"), let (start, end) = Self.byteRange(range, length: wav.count) {
            return ConsoleResponse(
                status: 206, contentType: "audio/wav", body: Array(wav[start...end]),
                headers: [("content-range", "bytes \(start)-\(end)/\(wav.count)"), ("accept-ranges", "bytes")])
        }
        return ConsoleResponse(status: 200, contentType: "audio/wav", body: wav, headers: [("accept-ranges", "bytes")])
    }

    /// `bytes=START-[END]` within `length`, or nil (then the whole body is sent).
    static func byteRange(_ header: String, length: Int) -> (Int, Int)? {
        guard header.hasPrefix("bytes="), length > 0 else { return nil }
        let spec = header.dropFirst(6).split(separator: ",").first ?? ""
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), start < length else { return nil }
        let end = Int(parts[1]).map { min($0, length - 1) } ?? length - 1
        return end >= start ? (start, end) : nil
    }
}
