import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// Playback of a call: a POST with a reason (and an override reason for a restricted recording,
/// ``AuditedAccess``) decrypts both tracks through ``CallAudio`` — ``RecordingExporter`` writes
/// `recording.decrypted` (and `recording.restriction_overridden`) with the operator and the reason
/// before any key is unwrapped — and keeps the stereo WAV in the session for a few minutes; the
/// `<audio>` element then GETs it from a same-origin URL that carries no secret, served `no-store`.
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
        let wav: [UInt8]
        switch await audio.stereoWAV(call: call, recordings: recordings, access: access, purpose: "console playback") {
        case .success(let built): wav = built
        case .failure(let failure): return failure.response
        }
        console.sessions.grantPlayback(key: session.key, callID: call.id, wav: wav)
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
