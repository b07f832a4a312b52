import CallVaultArchive
import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// Downloads from the call page (agents and admins): the stereo WAV and the transcript (JSON or text),
/// each a POST with CSRF and a reason, audited like playback with purpose `console download`; a
/// restricted recording needs an override reason; viewers get no form and 403.
@Suite struct ConsoleDownloadTests {
    /// Seals a two-line transcript for `call`.
    static func transcribe(_ call: CallRecord, in fixture: ConsoleFixture) async throws -> Transcript {
        let transcript = Transcript(
            callId: call.id,
            engine: "test",
            language: "en",
            createdAt: "2026-01-01T00:00:00Z",
            audioMs: 2000,
            segments: [
                SpeakerSegment(
                    speaker: "bot",
                    TranscriptSegment(startMs: 0, endMs: 900, text: "this call is recorded", words: [])
                ),
                SpeakerSegment(
                    speaker: "caller",
                    TranscriptSegment(startMs: 1000, endMs: 1900, text: "that is fine", words: [])
                ),
            ]
        )
        _ = try await TranscriptStore(
            catalog: fixture.data.catalog,
            keyStore: fixture.data.keyStore,
            dataDirectory: fixture.data.directory
        )
        .seal(transcript, tenantID: call.tenantId, actor: "test")
        return transcript
    }

    static func decrypted(_ fixture: ConsoleFixture) async throws -> [AuditEntry] {
        try await fixture.data.catalog.audit.entries().filter {
            $0.action == .recordingDecrypted || $0.action == .transcriptDecrypted
        }
    }

    @Test func anAgentDownloadsTheWAVAndTheTranscriptAudited() async throws {
        let fixture = try ConsoleFixture("console-download")
        try ConsolePlaybackTests.record(fixture.callA, in: fixture)
        let transcript = try await Self.transcribe(fixture.callA, in: fixture)
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(
            page.contains("action=\"/calls/\(fixture.callA.id)/download\"") && page.contains(">Download WAV</button>")
        )
        #expect(page.contains("value=\"transcript\">Download transcript (JSON)</button>"))
        let csrf = await fixture.csrf(cookies)
        let target = "/calls/\(fixture.callA.id)/download"

        #expect(
            await fixture.post(target, form: ["csrf": csrf, "what": "wav", "reason": " "], cookies: cookies).status
                == 400
        )
        #expect(
            await fixture.post(target, form: ["what": "wav", "reason": "x"], cookies: cookies).status == 403,
            "no CSRF token"
        )
        // (The 400 answer is the call page again, which shows the transcript: audited `console view`.)
        #expect(
            try await Self.decrypted(fixture).allSatisfy { $0.detailValues["purpose"] != "console download" },
            "nothing decrypted for a refused request"
        )

        let wav = await fixture.post(
            target,
            form: ["csrf": csrf, "what": "wav", "reason": "ticket 9"],
            cookies: cookies
        )
        #expect(wav.status == 200 && wav.header("content-type") == "audio/wav", "\(ConsoleFixture.text(wav))")
        #expect(wav.header("content-disposition") == "attachment; filename=\"call-CA-call-a.wav\"")
        #expect(Array(wav.body.prefix(4)) == Array("RIFF".utf8) && wav.body[22] == 2, "the stereo WAV playback builds")
        #expect((wav.body.count - 44) / 4 >= 16_000)

        let json = await fixture.post(
            target,
            form: ["csrf": csrf, "what": "transcript", "reason": "ticket 9"],
            cookies: cookies
        )
        #expect(json.status == 200 && json.header("content-type") == "application/json")
        #expect(json.header("content-disposition") == "attachment; filename=\"call-CA-call-a.json\"")
        #expect(try JSONDecoder().decode(Transcript.self, from: Data(json.body)) == transcript)
        let text = await fixture.post(
            target,
            form: ["csrf": csrf, "what": "text", "reason": "ticket 9"],
            cookies: cookies
        )
        #expect(text.header("content-disposition") == "attachment; filename=\"call-CA-call-a.txt\"")
        #expect(
            ConsoleFixture.text(text)
                == "[0:00.0–0:00.9] bot: this call is recorded\n[0:01.0–0:01.9] caller: that is fine\n"
        )

        let downloads = try await Self.decrypted(fixture).filter { $0.detailValues["purpose"] == "console download" }
        #expect(downloads.filter { $0.action == .recordingDecrypted }.count == 2, "one entry per track")
        #expect(downloads.filter { $0.action == .transcriptDecrypted }.count == 2, "JSON and text")
        #expect(
            downloads.allSatisfy {
                $0.actor == "console:alice" && $0.detailValues["reason"] == "ticket 9"
                    && $0.detailValues["callId"] == fixture.callA.id
            }
        )
    }

    @Test func viewersGetNoFormAndForbidden() async throws {
        let fixture = try ConsoleFixture("console-download-viewer")
        try ConsolePlaybackTests.record(fixture.callA, in: fixture)
        let (_, cookies) = await fixture.signIn("victor")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(!page.contains("/download") && !page.contains("Download WAV"))
        let csrf = await fixture.csrf(cookies)
        for what in ["wav", "transcript"] {
            let refused = await fixture.post(
                "/calls/\(fixture.callA.id)/download",
                form: ["csrf": csrf, "what": what, "reason": "x"],
                cookies: cookies
            )
            #expect(refused.status == 403 && refused.header("content-disposition") == nil)
        }
        // Another tenant's call answers 404, as one that does not exist.
        let (_, agent) = await fixture.signIn("alice")
        let agentCSRF = await fixture.csrf(agent)
        let foreign = await fixture.post(
            "/calls/\(fixture.callB.id)/download",
            form: ["csrf": agentCSRF, "what": "wav", "reason": "x"],
            cookies: agent
        )
        #expect(foreign.status == 404)
        #expect(try await Self.decrypted(fixture).isEmpty)
    }

    @Test func aRestrictedRecordingDownloadsOnlyWithAnAuditedOverride() async throws {
        let fixture = try ConsoleFixture("console-download-restricted")
        try ConsolePlaybackTests.record(fixture.callA, in: fixture)
        _ = try await Self.transcribe(fixture.callA, in: fixture)
        for recording in try fixture.data.catalog.recordings(inCalls: [fixture.callA.id]) {
            try fixture.data.catalog.setRestricted(
                recordingID: recording.id,
                true,
                reason: "subject objects",
                actor: "test",
                at: Date()
            )
        }
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(page.contains("id=\"download-override\""))
        let csrf = await fixture.csrf(cookies)
        let target = "/calls/\(fixture.callA.id)/download"
        for what in ["wav", "transcript"] {
            #expect(
                await fixture.post(target, form: ["csrf": csrf, "what": what, "reason": "curious"], cookies: cookies)
                    .status == 403
            )
        }
        #expect(try await Self.decrypted(fixture).isEmpty, "nothing decrypted without an override")
        for what in ["wav", "transcript"] {
            let overridden = await fixture.post(
                target,
                form: ["csrf": csrf, "what": what, "reason": "court order", "override": "order 12"],
                cookies: cookies
            )
            #expect(overridden.status == 200, "\(what): \(ConsoleFixture.text(overridden))")
        }
        let actions = try await fixture.data.catalog.audit.entries().map(\.action)
        #expect(actions.filter { $0 == .restrictionOverridden }.count >= 2)
        #expect(actions.contains(.recordingDecrypted) && actions.contains(.transcriptDecrypted))
    }
}
