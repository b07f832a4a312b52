import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// `POST /calls/ID/download`: an agent or admin takes a call home, audited like playback. `what=wav`
/// is the stereo WAV playback streams (``CallAudio``, `recording.decrypted` per track);
/// `what=transcript` the newest complete transcript as stored (JSON, version 1) and `what=text` the
/// same as plain text (`transcript.decrypted`). Each with purpose `console download`, actor
/// `console:NAME` and the form's reason; a restricted recording needs an override reason
/// (``AuditedAccess``), for its transcript too. The response is an attachment, `no-store` as every
/// console response but the stylesheet; nothing is written to disk (the WAV is streamed, decrypted
/// segment by segment as it is sent). Viewers get 403.
struct DownloadAction {
    let console: Console
    let session: ConsoleSession
    /// The purpose in the audit entries of a download.
    static let purpose = "console download"

    func download(callID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let call: CallRecord
        switch await console.visibleCallOrResponse(callID, session: session) {
        case .success(let found): call = found
        case .failure(let failure): return failure.response
        }
        if let refused = AuditedAccess.refusedBelowAgent(call, session: session) { return refused }
        let recordings: [RecordingRecord]
        do { recordings = try await console.catalog.recordings(inCalls: [call.id]) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let restricted = recordings.contains { $0.restricted && $0.state != .shredded }
        let what = request.form["what"] ?? ""
        guard ["wav", "transcript", "text"].contains(what) else {
            return .problem(400, "Bad request", "Choose what to download: the WAV or the transcript.", session: session)
        }
        let access: AuditedAccess
        switch await AuditedAccess.check(
            call: call,
            restricted: restricted,
            request: request,
            doing: "downloading",
            console: console,
            session: session
        )
        {
        case .success(let found): access = found
        case .failure(let failure): return failure.response
        }
        return what == "wav"
            ? await wav(call, access: access) : await transcript(call, access: access, asText: what == "text")
    }

    private func wav(_ call: CallRecord, access: AuditedAccess) async -> ConsoleResponse {
        let audio = CallAudio(console: console, session: session)
        let recordings: [RecordingRecord]
        switch await audio.readableRecordings(call) {
        case .success(let found): recordings = found
        case .failure(let failure): return failure.response
        }
        switch await audio.stereo(call: call, recordings: recordings, access: access, purpose: Self.purpose) {
        case .success(let stereo):
            return ConsoleResponse(
                status: 200, contentType: "audio/wav", stream: stereo.body(0..<stereo.byteCount),
                headers: [("content-disposition", "attachment; filename=\"\(Self.fileName(call, ext: "wav"))\"")])
        case .failure(let failure): return failure.response
        }
    }

    private func transcript(_ call: CallRecord, access: AuditedAccess, asText: Bool) async -> ConsoleResponse {
        let rows: [TranscriptRecord]
        do { rows = try await console.catalog.transcripts(callID: call.id) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        guard let newest = rows.filter({ $0.state == .complete }).max(by: { $0.createdAt < $1.createdAt }) else {
            return .problem(409, "No transcript", "This call has no readable transcript.", session: session)
        }
        let transcript: Transcript
        do {
            transcript = try await console.transcripts.open(
                id: newest.id,
                tenantID: call.tenantId,
                actor: Console.actor(session),
                purpose: Self.purpose,
                restrictionOverride: access.restrictionOverride,
                auditDetails: ["reason": access.reason, "callId": call.id]
            ).transcript
        } catch {
            console.logger.warning(
                "console transcript download failed",
                metadata: ["call": "\(call.id)", "code": "\(error.code)", "operator": "\(session.account.name)"]
            )
            return .problem(409, "Cannot decrypt", error.message, session: session)
        }
        if asText {
            return Self.attachment(
                Array(Self.text(transcript).utf8),
                contentType: "text/plain; charset=utf-8",
                name: Self.fileName(call, ext: "txt")
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do { json = try encoder.encode(transcript) } catch {
            return .problem(500, "Cannot encode", "The transcript could not be written as JSON.", session: session)
        }
        return Self.attachment(Array(json), contentType: "application/json", name: Self.fileName(call, ext: "json"))
    }

    /// The transcript as lines `[0:01.2–0:03.0] caller: text`.
    static func text(_ transcript: Transcript) -> String {
        transcript.segments.map {
            "[\(ConsoleFormat.duration(Int64($0.startMs)))–\(ConsoleFormat.duration(Int64($0.endMs)))] \($0.speaker): \($0.text)\n"
        }.joined()
    }

    /// `call-EXTERNALID.EXT`, the id reduced to letters, digits, `.`, `_` and `-` (a header-safe name).
    static func fileName(_ call: CallRecord, ext: String) -> String {
        var safe = String.UnicodeScalarView()
        for scalar in call.externalId.unicodeScalars where safe.count < 80 {
            let letterOrDigit = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
            if letterOrDigit || scalar == "." || scalar == "_" || scalar == "-" { safe.append(scalar) }
        }
        return "call-\(safe.isEmpty ? call.id : String(safe)).\(ext)"
    }

    static func attachment(_ body: [UInt8], contentType: String, name: String) -> ConsoleResponse {
        ConsoleResponse(
            status: 200,
            contentType: contentType,
            body: body,
            headers: [("content-disposition", "attachment; filename=\"\(name)\"")]
        )
    }
}
