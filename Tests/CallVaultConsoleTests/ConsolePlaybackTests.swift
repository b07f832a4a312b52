import CallVaultAudio
import CallVaultConsole
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import Testing

/// Playback through the console on a call recorded by the real recorder: the grant is audited with the
/// operator and the reason before anything is decrypted, the audio URL gives a stereo WAV to this
/// session only, and a restricted recording needs an override reason.
@Suite struct ConsolePlaybackTests {
    /// Records two seconds of a 440 Hz tone on both tracks of `call` (no consent needed).
    static func record(_ call: CallRecord, in fixture: ConsoleFixture, frames: Int = 100) throws {
        let recorder = CallRecorder(
            callID: call.id, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16),
            catalog: fixture.data.catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory,
            flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        for frameIndex in 0..<frames {
            for track in [RecordingTrack.caller, .bot] {
                let frame = ring.next(timestampMs: Int64(frameIndex) * 20)
                for i in 0..<160 {
                    frame.samples[i] = Int16(8000 * sin(Double(frameIndex * 160 + i) * 2 * .pi * 440 / 8000))
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
    }

    @Test func anAgentsPlaybackIsAuditedAndServedToItsSessionOnly() async throws {
        let fixture = try ConsoleFixture("console-play")
        try Self.record(fixture.callA, in: fixture)
        let (_, cookies) = await fixture.signIn("alice")
        #expect(await fixture.get("/calls/\(fixture.callA.id)/audio.wav", cookies: cookies).status == 404, "no grant yet")
        let csrf = await fixture.csrf(cookies)
        let noReason = await fixture.post("/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": " "], cookies: cookies)
        #expect(noReason.status == 400)
        let granted = await fixture.post(
            "/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": "ticket 77"], cookies: cookies)
        #expect(granted.status == 303, "\(ConsoleFixture.text(granted))")
        let audio = await fixture.get("/calls/\(fixture.callA.id)/audio.wav", cookies: cookies)
        #expect(audio.status == 200 && audio.header("content-type") == "audio/wav")
        #expect(Array(audio.body.prefix(4)) == Array("RIFF".utf8) && audio.body[22] == 2, "a stereo WAV")
        // Two seconds, two channels, 16-bit, 8 kHz (the exporter places each track on the call's timeline,
        // which may start it a few milliseconds in).
        let frames = (audio.body.count - 44) / 4
        #expect(frames >= 16_000 && frames <= 16_400, "\(frames) stereo frames")
        let range = await ConsoleFixture.collected(await fixture.console.handle(
            ConsoleRequest(
                method: "GET", target: "/calls/\(fixture.callA.id)/audio.wav",
                headers: ConsoleFixture.cookieHeader(cookies) + [("range", "bytes=0-43")])))
        #expect(range.status == 206 && range.body.count == 44 && range.header("content-range") == "bytes 0-43/\(audio.body.count)")
        let decrypted = try await fixture.data.catalog.audit.entries().filter { $0.action == .recordingDecrypted }
        #expect(decrypted.count == 2, "one entry per track")
        #expect(decrypted.allSatisfy { $0.actor == "console:alice" && $0.detailValues["reason"] == "ticket 77" })
        // Another operator's session has no grant, whatever URL it knows.
        let (_, other) = await fixture.signIn("victor")
        #expect(await fixture.get("/calls/\(fixture.callA.id)/audio.wav", cookies: other).status == 404)
    }

    @Test func aRestrictedRecordingPlaysOnlyWithAnAuditedOverride() async throws {
        let fixture = try ConsoleFixture("console-restricted")
        try Self.record(fixture.callA, in: fixture)
        for recording in try fixture.data.catalog.recordings(inCalls: [fixture.callA.id]) {
            try fixture.data.catalog.setRestricted(
                recordingID: recording.id, true, reason: "subject objects", actor: "test", at: Date())
        }
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(page.contains("id=\"override\""), "the play form asks for an override reason")
        let csrf = await fixture.csrf(cookies)
        let refused = await fixture.post("/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": "curious"], cookies: cookies)
        #expect(refused.status == 403)
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .recordingDecrypted }, "nothing decrypted")
        let overridden = await fixture.post(
            "/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": "court order", "override": "court order 12"],
            cookies: cookies)
        #expect(overridden.status == 303)
        let actions = try await fixture.data.catalog.audit.entries().map(\.action)
        #expect(actions.contains(.restrictionOverridden) && actions.contains(.recordingDecrypted))
    }
}

extension ConsolePlaybackTests {
    @Test func aSessionHoldsOnePlaybackAtATime() async throws {
        let fixture = try ConsoleFixture("console-one-playback")
        try Self.record(fixture.callA, in: fixture)
        let second = try fixture.data.catalog.registerCall(
            tenantID: fixture.tenantA.id, externalID: "CA-second", callerNumber: nil, startedAt: Date(), actor: "test",
            callerKeys: nil)
        try Self.record(second, in: fixture)
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        for call in [fixture.callA, second] {
            #expect(await fixture.post("/calls/\(call.id)/play", form: ["csrf": csrf, "reason": "x"], cookies: cookies).status == 303)
        }
        #expect(await fixture.get("/calls/\(fixture.callA.id)/audio.wav", cookies: cookies).status == 404)
        #expect(await fixture.get("/calls/\(second.id)/audio.wav", cookies: cookies).status == 200)
    }
}
