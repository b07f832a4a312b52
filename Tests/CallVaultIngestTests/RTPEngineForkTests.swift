import CallVaultAudio
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// A call whose two legs run through rtpengine (Debian rtpengine-daemon, the media proxy SBCs and
/// Kamailio/OpenSIPS use), forked to CallVault by rtpengine's own SIPREC subscription: the offer
/// CallVault answers and the RTP it records come from rtpengine, not from our code.
@Suite(
    "SIPREC media forked by rtpengine", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || RTPEngineControl.configured != nil, "SKIPPED: rtpengine is not running and CALLVAULT_SKIP_SERVICES=1 — media forked by rtpengine is NOT tested; run scripts/test"))
struct RTPEngineForkTests {
    @Test func bothLegsAreRecordedOnTheirOwnTracksFromTheConsentKeyOnAndTranscribedPerSpeaker() throws {
        let ng = try RTPEngineControl(
            address: try #require(RTPEngineControl.configured, "CALLVAULT_TEST_RTPENGINE_NG is not set: run the tests through scripts/test (rtpengine)"))
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }

        // The call between A (the customer) and B (the bot), through rtpengine.
        let a = try RTPSender()
        let b = try RTPSender()
        let rtpeCall = "rtpe-\(UUID().uuidString)"
        func sdp(_ port: Int) -> String {
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio \(port) RTP/AVP 0 101\r\n"
                + "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        }
        let offered = try ng.command("offer", ["call-id": .string(rtpeCall), "from-tag": .string("tagA"), "sdp": .string(sdp(a.port))])
        let answered = try ng.command(
            "answer", ["call-id": .string(rtpeCall), "from-tag": .string("tagA"), "to-tag": .string("tagB"), "sdp": .string(sdp(b.port))])
        let towardsB = try #require(offered["sdp"]?.string.flatMap(RTPEngineControl.audioPort), "where B sends")
        let towardsA = try #require(answered["sdp"]?.string.flatMap(RTPEngineControl.audioPort), "where A sends")

        // rtpengine's SIPREC subscription: an offer with one labelled stream per leg.
        let subscription = try ng.command(
            "subscribe request", ["call-id": .string(rtpeCall), "flags": .list([.string("all"), .string("siprec")])])
        let offer = try #require(subscription["sdp"]?.string)
        let toTag = try #require(subscription["to-tag"]?.string)
        let labelA = try #require(Self.label(of: "tagA", in: subscription))
        let labelB = try #require(Self.label(of: "tagB", in: subscription))
        let metadata = """
            <?xml version="1.0" encoding="UTF-8"?>
            <recording xmlns="urn:ietf:params:xml:ns:recording:1">
              <datamode>complete</datamode>
              <session session_id="s1"/>
              <participant participant_id="pa"><nameID aor="sip:+31201234567@carrier.test"/></participant>
              <participant participant_id="pb"><nameID aor="sip:bot@acme.test"/></participant>
              <stream stream_id="sa" session_id="s1"><label>\(labelA)</label></stream>
              <stream stream_id="sb" session_id="s1"><label>\(labelB)</label></stream>
              <participantstreamassoc participant_id="pa"><send>sa</send></participantstreamassoc>
              <participantstreamassoc participant_id="pb"><send>sb</send></participantstreamassoc>
            </recording>
            """
        let src = try TestSIPClient(serverPort: port)
        let body = "--b1\r\nContent-Type: application/sdp\r\n\r\n\(offer)\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\n\r\n"
            + metadata.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n--b1--\r\n"
        src.send(src.request("INVITE", cseq: 1, headers: ["Require: siprec"], contentType: "multipart/mixed;boundary=b1", body: body))
        let ok = try #require(src.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        src.send(src.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack"))
        _ = try ng.command(
            "subscribe answer", ["call-id": .string(rtpeCall), "to-tag": .string(toTag), "sdp": .string(TestSIPClient.body(ok))])

        // Twelve seconds of the sample call, each leg its own track: A the customer (the consent key at
        // 0.5 s, then "Yes, that's fine." at 9–11 s), B the bot (the disclosure, 0–8.5 s).
        let count = 12 * 8000
        let callerSpeech = Array(try AudioFileReader(path: Repository.sample("caller.flac")).readAllMono().prefix(count))
        let botSpeech = Array(try AudioFileReader(path: Repository.sample("bot.flac")).readAllMono().prefix(count))
        let start = Date().addingTimeInterval(0.2)
        let legA = Thread { a.send(callerSpeech, to: towardsA, ssrc: 0xA11CE, keys: [(500, 1)], start: start) }
        legA.start()
        b.send(botSpeech, to: towardsB, ssrc: 0xB0B, start: start)
        Thread.sleep(forTimeInterval: 0.5)
        src.send(src.request("BYE", cseq: 2, inDialog: true))
        #expect(TestSIPClient.status(src.receiveFinal()) == 200)
        _ = try? ng.command("delete", ["call-id": .string(rtpeCall)])

        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: src.callID).first)
        #expect(try poll(timeout: .seconds(20)) {
            let recordings = try catalog.recordingSummaries().filter { $0.callId == call.id }
            return recordings.count == 2 && recordings.allSatisfy { $0.state == .complete }
        }, "a complete recording per track")
        let wav = root + "/call.wav"
        #expect(try ServeEndToEndTests.cli(["calls", "export", call.id, "--out", wav], data: data).status == 0)
        let reader = try AudioFileReader(path: wav)
        #expect(reader.channels == 2)
        let caller = try reader.readAll(.channel(0))
        let bot = try AudioFileReader(path: wav).readAll(.channel(1))
        let rate = reader.sampleRate
        // Each voice on its own side (a swapped label would show the other way round).
        let disclosure = (rate * 1)..<(rate * 7)
        let answer = (rate * 9)..<(rate * 11)
        #expect(ToneAnalysis.rms(bot[disclosure]) > 8 * max(ToneAnalysis.rms(caller[disclosure]), 1), "the bot's leg on the bot track")
        #expect(ToneAnalysis.rms(caller[answer]) > 8 * max(ToneAnalysis.rms(bot[answer]), 1), "the customer's leg on the caller track")
        // Before the consent key nothing was kept, though the bot was already speaking.
        #expect(ToneAnalysis.rms(bot[0..<(rate / 4)]) < 50)
        #expect(try server.stop() == 0)

        let transcribed = try ServeEndToEndTests.cli(["transcribe", "--pending", "--engine", "pocketsphinx", "--format", "json"], data: data)
        #expect(transcribed.status == 0, "\(transcribed.stdout)")
        let shown = try ServeEndToEndTests.cli(["transcripts", "show", "--call", src.callID, "--format", "json"], data: data)
        let transcript = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let segments = try #require(transcript["segments"] as? [[String: Any]])
        #expect(Set(segments.compactMap { $0["speaker"] as? String }) == ["caller", "bot"], "a transcript per speaker")
    }

    /// The label rtpengine gave the stream of the leg tagged `tag` (`media-labels` of its reply).
    static func label(of tag: String, in reply: RTPEngineControl.Value) -> String? {
        guard case .dictionary(let labels)? = reply["media-labels"] else { return nil }
        return labels.first { $0.value["tag"]?.string == tag }?.key
    }
}
