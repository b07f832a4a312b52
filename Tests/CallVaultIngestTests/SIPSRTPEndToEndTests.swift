import CallVaultAudio
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// An SRTP (SDES) session end to end: the SRC's packets are protected by libsrtp2 (PyPI's pylibsrtp,
/// the reference implementation) with the key it offered; `callvault serve --sip` answers SAVP with a
/// key of its own, unprotects, and records the audio from the consent key on.
@Suite("SIPREC over SRTP, protected by libsrtp2", .serialized, .timeLimit(.minutes(15)))
struct SIPSRTPEndToEndTests {
    static let protect = #"""
        import sys
        from pylibsrtp import Policy, Session
        session = Session(policy=Policy(key=bytes.fromhex(sys.argv[1]), ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                                        srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80))
        for line in sys.stdin:
            print(session.protect(bytes.fromhex(line.strip())).hex())
        """#

    /// A Python that can import pylibsrtp (`scripts/services install pylibsrtp`), or nil.
    static func python() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        for case let candidate? in [environment["CALLVAULT_TEST_PYLIBSRTP_PYTHON"], cache + "/callvault/pylibsrtp/venv/bin/python"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? ChildProcess.run(URL(fileURLWithPath: candidate), ["-c", "import pylibsrtp"], timeout: .seconds(30)).status) == 0 {
                return candidate
            }
        }
        return nil
    }

    @Test func aSessionProtectedByLibsrtpIsRecordedFromTheConsentKeyOn() throws {
        guard let python = Self.python() else {
            if !Services.required {
                print("⚠️  SKIPPED: SRTP through the SIP server — pylibsrtp is not installed and CALLVAULT_SKIP_SERVICES=1")
                return
            }
            Issue.record("pylibsrtp is missing: run scripts/services install pylibsrtp (or set CALLVAULT_SKIP_SERVICES=1)")
            return
        }
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let key = (0..<30).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        let client = try TestSIPClient(serverPort: port)
        client.send(client.request(
            "INVITE", cseq: 1, contentType: "application/sdp",
            body: SIPHostileMediaTests.offer([("RTP/SAVP", Data(key).base64EncodedString())])))
        let ok = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        let line = try #require(SIPHostileMediaTests.mediaLines(ok).first)
        #expect(line.contains("RTP/SAVP"))
        let mediaPort = try #require(Int(line.split(separator: " ")[1]))
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))

        // Two seconds of 440 Hz with the consent key at 0.3 s, every packet protected by libsrtp2.
        let plain = RTPCapture.packets(RTPCapture.Stream(port: mediaPort, ssrc: 0x5EC4E7, samples: RTPCapture.tone(440, seconds: 2), keys: [(300, 1)]))
        let hex = plain.map { $0.rtp.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n") + "\n"
        let input = root + "/plain.hex"
        try hex.write(toFile: input, atomically: true, encoding: .utf8)
        let script = root + "/protect.py"
        try Self.protect.write(toFile: script, atomically: true, encoding: .utf8)
        let protected = try ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" \"$1\" \"$2\" < \"$3\"", python, script, key.map { String(format: "%02x", $0) }.joined(), input],
            timeout: .seconds(60))
        #expect(protected.status == 0, "\(protected.stderr)")
        let packets = protected.stdout.split(whereSeparator: \.isNewline).map { text in
            stride(from: 0, to: text.count, by: 2).map { UInt8(text.dropFirst($0).prefix(2), radix: 16)! }
        }
        #expect(packets.count == plain.count)
        let sender = try RTPSender()
        let start = Date().addingTimeInterval(0.1)
        for (index, packet) in packets.enumerated() {
            let wait = start.addingTimeInterval(Double(plain[index].timeUs) / 1_000_000).timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            sender.socket.send(packet, toPort: mediaPort)
            if index == 60 {
                // A tampered copy and a replay: refused, the stream goes on.
                var tampered = packet
                tampered[20] ^= 0x01
                sender.socket.send(tampered, toPort: mediaPort)
                sender.socket.send(packet, toPort: mediaPort)
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        client.send(client.request("BYE", cseq: 2, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        #expect(try server.stop() == 0)

        let wav = root + "/call.wav"
        #expect(try ServeEndToEndTests.cli(["calls", "export", client.callID, "--out", wav], data: data).status == 0)
        let reader = try AudioFileReader(path: wav)
        let caller = try reader.readAll(.channel(0))
        let rate = reader.sampleRate
        #expect(caller.count >= rate, "about 1.7 s kept from the key on")
        let window = (rate / 2)..<min(caller.count, rate * 3 / 2)
        #expect(ToneAnalysis.share(of: 440, in: caller[window], rate: Double(rate)) > 0.3, "decrypted audio, not noise")
        #expect(ToneAnalysis.rms(caller[0..<(rate / 10)]) < 50 || caller.count < 2 * rate, "nothing before the consent key")
    }
}
