import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// Playback of a call: a POST with a reason (and an override reason for a restricted recording,
/// ``AuditedAccess``) decrypts both tracks through ``CallAudio`` — ``RecordingExporter`` writes
/// `recording.decrypted` (and `recording.restriction_overridden`) with the operator and the reason
/// before any key is unwrapped — and keeps the opened tracks (``StereoCallAudio``: their index and keys,
/// no audio) in the session for a few minutes; the `<audio>` element then GETs the WAV, streamed, from a
/// same-origin URL that carries no secret, served `no-store`.
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
        console.sessions.grantPlayback(key: session.key, callID: call.id, audio: stereo)
        return .redirect("/calls/\(FormEncoding.escape(call.id))#playback")
    }

    /// The granted WAV, whole or the byte range asked for (browsers seek with `Range`), streamed: only
    /// the segments the range covers are decrypted. 404 without a grant of this session for this call,
    /// so the URL alone opens nothing; requests under a grant are not audited again (the grant was).
    func audio(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        if case .failure(let failure) = await console.visibleCallOrResponse(callID, session: session) { return failure.response }
        guard let audio = console.sessions.playback(key: session.key, callID: callID) else { return .notFound(session: session) }
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
