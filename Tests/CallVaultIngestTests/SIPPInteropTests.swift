import CallVaultAudio
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault serve --sip` against sipp (Debian sip-tester), a third-party SIP implementation, playing
/// an SBC's SIPREC client per vendor flavour. sipp checks every answer; the catalog must then hold the
/// call under its SIP Call-ID, closed, with the pause and resume on its timeline.
@Suite(
    "SIPREC sessions from sipp", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || SIPPScenario.binary != nil, "SKIPPED: sipp is not installed and CALLVAULT_SKIP_SERVICES=1 — the SIP server is NOT tested against sipp; run scripts/services install sipp"))
struct SIPPInteropTests {
    @Test(arguments: SIPPScenario.Flavour.allCases)
    func aSessionOfEachVendorFlavourIsAnsweredPausedResumedAndClosed(_ flavour: SIPPScenario.Flavour) throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let options = try SIPPScenario.run(SIPPScenario.options, port: port, directory: root)
        #expect(options.status == 0, "OPTIONS: \(options.output)")
        let run = try SIPPScenario.run(SIPPScenario.session(flavour), port: port, directory: root)
        #expect(run.status == 0, "sipp \(flavour): \(run.output)")
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let calls = try catalog.calls(externalID: run.callID)
        let call = try #require(calls.first, "the session's call is in the catalog")
        #expect(calls.count == 1)
        #expect(try poll(timeout: .seconds(10)) { try catalog.call(id: call.id).endedAt != nil }, "closed after the BYE")
        let kinds = try catalog.consentEvents(callID: call.id).map(\.kind)
        #expect(kinds.filter { $0 == .pause }.count == 1 && kinds.filter { $0 == .resume }.count == 1, "\(kinds)")
        #expect(try server.stop() == 0)
    }

    @Test func aTenantThatDoesNotAllowTheSourceRefusesTheSession() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let run = try SIPPScenario.run(SIPPScenario.session(.rfc7866), port: port, service: "closed", directory: root)
        #expect(run.status != 0)
        #expect(run.output.contains("403"), "\(run.output)")
        #expect(try server.stop() == 0)
    }
}

extension SIPPInteropTests {
    /// The "done when": a SIPREC session from sipp carrying real speech (the sample call, one
    /// track per labelled stream, RTP from a capture sipp replays) is consent-gated by the customer's
    /// RFC 4733 key, paused by a re-INVITE (what is sent meanwhile is not kept), sealed, exported as a
    /// stereo WAV with each voice on its own side, and transcribed per speaker.
    @Test func speechFromSippIsRecordedFromConsentPausedExportedAndTranscribedPerSpeaker() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let seconds = 14.0
        let count = Int(seconds * 8000)
        let caller = Array(try AudioFileReader(path: Repository.sample("caller.flac")).readAllMono().prefix(count))
        let bot = Array(try AudioFileReader(path: Repository.sample("bot.flac")).readAllMono().prefix(count))
        let speech = root + "/speech.pcap"
        try Data(RTPCapture.pcap([
            RTPCapture.Stream(port: 6000, ssrc: 0xCA11E4, samples: caller, keys: [(200, 1)]),
            RTPCapture.Stream(port: 6002, ssrc: 0xB07, samples: bot),
        ])).write(to: URL(fileURLWithPath: speech))
        // While paused: a 2.9 kHz tone on both streams, which must appear nowhere in the recording.
        let tone = root + "/tone.pcap"
        try Data(RTPCapture.pcap([
            RTPCapture.Stream(port: 6000, ssrc: 0xCA11E4, samples: RTPCapture.tone(2900, seconds: 1)),
            RTPCapture.Stream(port: 6002, ssrc: 0xB07, samples: RTPCapture.tone(2900, seconds: 1)),
        ])).write(to: URL(fileURLWithPath: tone))
        let scenario = SIPPScenario.session(.rfc7866, media: speech, holdMs: Int(seconds * 1000) + 500, pausedMedia: tone, pausedMs: 1300)
        let run = try SIPPScenario.run(scenario, port: port, directory: root)
        #expect(run.status == 0, "sipp: \(run.output)")
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: run.callID).first)
        #expect(try poll(timeout: .seconds(20)) {
            let recordings = try catalog.recordingSummaries().filter { $0.callId == call.id }
            return recordings.count == 2 && recordings.allSatisfy { $0.state == .complete }
        }, "a complete recording per track")
        #expect(try server.stop() == 0)

        let wav = root + "/call.wav"
        let exported = try ServeEndToEndTests.cli(["calls", "export", run.callID, "--out", wav], data: data)
        #expect(exported.status == 0, "\(exported.stdout)")
        let reader = try AudioFileReader(path: wav)
        #expect(reader.channels == 2)
        let rate = reader.sampleRate
        let left = try reader.readAll(.channel(0))
        let right = try AudioFileReader(path: wav).readAll(.channel(1))
        // Each side carries its own voice: where the bot speaks (the disclosure, 1–7 s) its side is loud
        // and the caller's quiet (the sample tracks are silent while the other speaks).
        let disclosure = (rate * 1)..<(rate * 7)
        #expect(ToneAnalysis.rms(right[disclosure]) > 8 * max(ToneAnalysis.rms(left[disclosure]), 1), "the bot on the right")
        // The paused tone is nowhere: no 100 ms window of either side is mostly 2.9 kHz.
        for side in [left, right] {
            let windows = stride(from: 0, to: side.count - rate / 10, by: rate / 10)
            let worst = windows.map { ToneAnalysis.share(of: 2900, in: side[$0..<($0 + rate / 10)], rate: Double(rate)) }.max() ?? 0
            #expect(worst < 0.3, "what was sent while paused is not in the recording (worst 2.9 kHz share \(worst))")
        }
        #expect(try catalog.pausedSpans(callID: call.id).count == 1)

        let transcribed = try ServeEndToEndTests.cli(["transcribe", "--pending", "--engine", "pocketsphinx", "--format", "json"], data: data)
        #expect(transcribed.status == 0, "\(transcribed.stdout)")
        let shown = try ServeEndToEndTests.cli(["transcripts", "show", "--call", run.callID, "--format", "json"], data: data)
        #expect(shown.status == 0)
        let transcript = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let segments = try #require(transcript["segments"] as? [[String: Any]], "\(shown.stdout.prefix(400))")
        let speakers = Set(segments.compactMap { $0["speaker"] as? String })
        #expect(speakers == ["caller", "bot"], "a transcript per speaker: \(speakers)")
    }
}
