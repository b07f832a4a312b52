import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation

/// One call: its facts, the timeline (picture and tables; the picture's levels are computed for every
/// role on each view, see ``TrackLevels``), playback (agents and admins, after
/// an audited request with a reason), and the transcript with speakers and times. Opening the
/// transcript decrypts it through ``TranscriptStore``, audited `transcript.decrypted` with the operator.
struct CallPage {
    let console: Console
    let session: ConsoleSession

    func render(callID: String, request: ConsoleRequest, message: String? = nil) async -> ConsoleResponse {
        let call: CallRecord
        switch await console.visibleCallOrResponse(callID, session: session) {
        case .success(let found): call = found
        case .failure(let failure): return failure.response
        }
        let role = session.account.role(in: call.tenantId) ?? .viewer
        let events: [ConsentEventRecord]
        let paused: [PausedSpanRecord]
        let recordings: [RecordingRecord]
        let transcriptRows: [TranscriptRecord]
        do {
            events = try await console.catalog.consentEvents(callID: call.id)
            paused = try await console.catalog.pausedSpans(callID: call.id)
            recordings = try await console.catalog.recordings(inCalls: [call.id])
            transcriptRows = try await console.catalog.transcripts(callID: call.id)
        } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let tenantName = (try? await console.catalog.tenant(id: call.tenantId).name) ?? call.tenantId
        let restricted = recordings.contains { $0.restricted && $0.state != .shredded }
        var body = "<h1>Call \(HTML.escape(call.externalId))</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        body += """
            <dl class="facts">
            <dt>Tenant</dt><dd>\(HTML.escape(tenantName))</dd>
            <dt>Call id</dt><dd><code>\(HTML.escape(call.id))</code></dd>
            <dt>Started (UTC)</dt><dd>\(ConsoleFormat.time(call.startedAt))</dd>
            <dt>Ended (UTC)</dt><dd>\(call.endedAt.map(ConsoleFormat.time) ?? "still live")</dd>
            <dt>Your role</dt><dd>\(role.rawValue)</dd>
            </dl>
            """
        var timeline = CallTimeline(call: call, events: events, paused: paused, recordings: recordings)
        timeline.levels = await TrackLevels.load(
            recordings, call: call, bucketMs: timeline.bucketMs, bucketCount: timeline.bucketCount, console: console,
            operatorName: session.account.name)
        body += "<section aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">Consent timeline</h2>"
        body += timeline.svg() + timeline.table() + timeline.levelsDetails() + "</section>"
        var playing = false
        if role >= .agent { playing = await PlaybackAction(console: console, session: session).isGranted(callID: call.id) }
        body += playback(call: call, role: role, recordings: recordings, restricted: restricted, playing: playing)
        body += await transcript(call: call, rows: transcriptRows, restricted: restricted, seekable: playing)
        body += downloads(call: call, role: role, recordings: recordings, transcripts: transcriptRows, restricted: restricted)
        return .html(200, ConsoleLayout.page(title: "Call \(call.externalId)", session: session, body: body, script: true))
    }

    private func playback(call: CallRecord, role: OperatorRole, recordings: [RecordingRecord], restricted: Bool, playing: Bool)
        -> String
    {
        var html = "<section aria-labelledby=\"play-h\" id=\"playback\"><h2 id=\"play-h\">Recording</h2>"
        let readable = recordings.filter { $0.state != .shredded }
        guard !readable.isEmpty else {
            let why = recordings.isEmpty ? "Nothing was recorded (no consent, or no audio)." : "The recording was shredded: nobody can play it."
            return html + "<p>\(why)</p></section>"
        }
        guard role >= .agent else {
            return html + "<p>Viewers may not play recordings: ask an agent or an administrator of this tenant.</p></section>"
        }
        if playing {
            html += """
                <p>Playback granted for this session (audited). Caller on the left, bot on the right.</p>
                <audio class="call-audio" controls preload="auto" src="/calls/\(FormEncoding.escape(call.id))/audio.wav" aria-label="Call recording, stereo">
                Your browser cannot play WAV audio.</audio>
                """
        }
        html += """
            <form method="post" action="/calls/\(FormEncoding.escape(call.id))/play" class="play">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <label for="reason">Reason for listening (kept in the audit log)</label>
            <input id="reason" name="reason" required maxlength="500">
            """
        if restricted {
            html += """
                <p class="warning">A recording of this call is restricted (GDPR Art. 18). Playing it needs an override reason, which is audited.</p>
                <label for="override">Override reason</label>
                <input id="override" name="override" required maxlength="500">
                """
        }
        return html + "<button type=\"submit\">Play recording</button></form></section>"
    }

    /// The download form (agents and admins): one reason, audited, for the WAV or the transcript.
    private func downloads(
        call: CallRecord, role: OperatorRole, recordings: [RecordingRecord], transcripts: [TranscriptRecord], restricted: Bool
    ) -> String {
        guard role >= .agent else { return "" }
        let hasAudio = recordings.contains { $0.state != .shredded }
        let hasTranscript = transcripts.contains { $0.state == .complete }
        guard hasAudio || hasTranscript else { return "" }
        var html = """
            <section aria-labelledby="download-h" id="downloads"><h2 id="download-h">Downloads</h2>
            <form method="post" action="/calls/\(FormEncoding.escape(call.id))/download" class="download">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <label for="download-reason">Reason for downloading (kept in the audit log)</label>
            <input id="download-reason" name="reason" required maxlength="500">
            """
        if restricted {
            html += """
                <label for="download-override">Override reason (a recording of this call is restricted)</label>
                <input id="download-override" name="override" required maxlength="500">
                """
        }
        html += "<p class=\"buttons\">"
        if hasAudio { html += "<button type=\"submit\" name=\"what\" value=\"wav\">Download WAV</button> " }
        if hasTranscript {
            html += """
                <button type="submit" name="what" value="transcript">Download transcript (JSON)</button>
                <button type="submit" name="what" value="text">Download transcript (text)</button>
                """
        }
        return html + "</p></form></section>"
    }

    /// The transcript, each line with its time span (`data-start-ms`, `data-end-ms`) for the console's
    /// script, which highlights the line being played; with playback granted (`seekable`) each line's
    /// time is a button that seeks the audio there.
    private func transcript(call: CallRecord, rows: [TranscriptRecord], restricted: Bool, seekable: Bool) async -> String {
        var html = "<section aria-labelledby=\"transcript-h\"><h2 id=\"transcript-h\">Transcript</h2>"
        guard let newest = rows.filter({ $0.state == .complete }).max(by: { $0.createdAt < $1.createdAt }) else {
            let why = rows.isEmpty ? "No transcript yet (see the transcription queue)." : "The transcript was shredded."
            return html + "<p>\(why)</p></section>"
        }
        if restricted {
            return html + "<p>A recording of this call is restricted (GDPR Art. 18): its transcript is not shown.</p></section>"
        }
        let transcript: Transcript
        do {
            transcript = try await console.transcripts.open(
                id: newest.id, tenantID: call.tenantId, actor: Console.actor(session), purpose: "console view").transcript
        } catch {
            return html + "<p class=\"error\">The transcript could not be opened: \(HTML.escape(error.message))</p></section>"
        }
        html += "<p class=\"note\">Decrypted for you now; this reading is in the audit log. Engine: \(HTML.escape(transcript.engine)).</p>"
        html += "<ol class=\"transcript\">"
        for segment in transcript.segments {
            let time = ConsoleFormat.duration(Int64(segment.startMs))
            let at =
                seekable
                ? "<button type=\"button\" class=\"seek at\" aria-label=\"Play from \(time)\">\(time)</button>"
                : "<span class=\"at\">\(time)</span>"
            html += """
                <li class="speaker-\(HTML.escape(segment.speaker))" data-start-ms="\(segment.startMs)" data-end-ms="\(segment.endMs)">\(at)
                <span class="speaker">\(HTML.escape(segment.speaker))</span> <span class="text">\(HTML.escape(segment.text))</span></li>
                """
        }
        return html + "</ol></section>"
    }
}
