import CallVaultAudio
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// Hostile SIP and RTP against `callvault serve --sip` over real sockets: each case is answered or
/// dropped with a bounded cost, and the call beside it goes on.
@Suite("SIP and RTP hostile input", .serialized, .timeLimit(.minutes(15)))
struct SIPHostileMediaTests {
    /// An offer with one line per given (proto, crypto) and PCMU/telephone-event on each.
    static func offer(_ lines: [(proto: String, crypto: String?)], port: Int = 40_000) -> String {
        var text = ["v=0", "o=SRC 7 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
        for (index, line) in lines.enumerated() {
            text += ["m=audio \(port + 2 * index) \(line.proto) 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=label:\(index + 1)", "a=sendonly"]
            if let crypto = line.crypto { text.append("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(crypto)") }
        }
        return text.joined(separator: "\r\n") + "\r\n"
    }

    /// The `m=` lines of an answer.
    static func mediaLines(_ response: String) -> [String] {
        TestSIPClient.body(response).split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("m=") }
    }

    @Test func anSRTPLineWithABadKeyIsRefusedAloneAndAnOfferOfNothingUsableGets488() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let shortKey = Data(repeating: 7, count: 20).base64EncodedString()  // 20 bytes: key ‖ salt must be 30
        let goodKey = Data((0..<30).map { UInt8($0) }).base64EncodedString()
        let client = try TestSIPClient(serverPort: port)
        client.send(client.request("INVITE", cseq: 1, contentType: "application/sdp",
                                   body: Self.offer([("RTP/SAVP", shortKey), ("RTP/AVP", nil)])))
        let ok = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        let lines = Self.mediaLines(ok)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("m=audio 0 RTP/SAVP") == true, "never plain RTP for an encrypted offer: \(lines)")
        #expect(lines.last?.hasPrefix("m=audio 0 ") == false)
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))
        client.send(client.request("BYE", cseq: 2, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)

        // A good SDES key is answered SAVP with a key of CallVault's own (the same tag and suite).
        let secure = try TestSIPClient(serverPort: port)
        secure.send(secure.request("INVITE", cseq: 1, contentType: "application/sdp", body: Self.offer([("RTP/SAVP", goodKey)])))
        let answered = try #require(secure.receiveFinal())
        #expect(Self.mediaLines(answered).first?.contains("RTP/SAVP") == true)
        let crypto = TestSIPClient.body(answered).split(whereSeparator: \.isNewline).first { $0.hasPrefix("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") }
        #expect(crypto != nil && crypto?.contains(goodKey) == false, "its own key, not the SRC's")
        secure.send(secure.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))
        secure.send(secure.request("BYE", cseq: 2, inDialog: true))
        #expect(TestSIPClient.status(secure.receiveFinal()) == 200)

        let nothing = try TestSIPClient(serverPort: port)
        nothing.send(nothing.request("INVITE", cseq: 1, contentType: "application/sdp", body: Self.offer([("RTP/SAVP", nil), ("UDP/TLS/RTP/SAVPF", nil)])))
        #expect(TestSIPClient.status(nothing.receiveFinal()) == 488)
        #expect(try server.stop() == 0)
    }

    @Test func foreignRTPAReInviteStormAndAKeyFloodLeaveTheCallRecordingItsOwnAudio() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let client = try TestSIPClient(serverPort: port)
        client.send(client.request("INVITE", cseq: 1, headers: ["Require: siprec"], contentType: "multipart/mixed;boundary=cvb0undary", body: TestSIPClient.siprecBody()))
        let ok = try #require(client.receiveFinal())
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))
        let callerPort = try #require(Self.mediaLines(ok).first.flatMap { Int($0.split(separator: " ")[1]) })

        // The SRC's stream: consent, then a 440 Hz tone; from another port at once, a 1 kHz intruder.
        let genuine = try RTPSender()
        let intruder = try RTPSender()
        let start = Date().addingTimeInterval(0.1)
        let sending = Thread { genuine.send(RTPCapture.tone(440, seconds: 3), to: callerPort, ssrc: 0x5EC0, keys: [(100, 1)], start: start) }
        sending.start()
        let intruding = Thread { intruder.send(RTPCapture.tone(1000, seconds: 2.5), to: callerPort, ssrc: 0xBAD, start: start.addingTimeInterval(0.3)) }
        intruding.start()
        // Meanwhile 100 re-INVITEs, each answered and ACKed: the session is unaffected.
        var answered = 0
        for cseq in 2..<102 {
            client.send(client.request("INVITE", cseq: cseq, inDialog: true, contentType: "application/sdp", body: TestSIPClient.offer(version: cseq)))
            if TestSIPClient.status(client.receiveFinal()) == 200 { answered += 1 }
            client.send(client.request("ACK", cseq: cseq, inDialog: true, branch: "z9hG4bKack\(cseq)"))
        }
        #expect(answered == 100)
        // A flood of RFC 4733 end packets for one key press: one event, not ten thousand.
        var flood: [UInt8] = [0x80, 101, 0, 0, 0, 0, 0x3e, 0x80, 0, 0, 0x5E, 0xC0]
        flood += [1, 0x8a, 0x03, 0x20]
        for i in 0..<10_000 {
            flood[2] = UInt8((i >> 8) & 0xff) ^ 0x40
            flood[3] = UInt8(i & 0xff)
            genuine.socket.send(flood, toPort: callerPort)
        }
        Thread.sleep(forTimeInterval: 3.5)
        client.send(client.request("BYE", cseq: 200, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        #expect(try server.stop() == 0)

        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: client.callID).first)
        // The genuine press and the flood's one event (10,000 end packets with one RTP timestamp).
        let consents = try catalog.consentEvents(callID: call.id).filter { $0.kind == .consent }
        #expect(consents.count == 2, "\(consents.map { ($0.method, $0.timelineMs ?? -1) })")
        let wav = root + "/call.wav"
        #expect(try ServeEndToEndTests.cli(["calls", "export", client.callID, "--out", wav], data: data).status == 0)
        let caller = try AudioFileReader(path: wav).readAll(.channel(0))
        let rate = try AudioFileReader(path: wav).sampleRate
        let window = (rate / 2)..<(rate * 2)
        #expect(ToneAnalysis.share(of: 440, in: caller[window], rate: Double(rate)) > 0.3, "the SRC's own audio is recorded")
        #expect(ToneAnalysis.share(of: 1000, in: caller[window], rate: Double(rate)) < 0.02, "the intruder's packets are not")
    }
}
