import CallVaultAudio
import CallVaultIngest
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve --sip tls:HOST:PORT` (SIP over TLS, RFC 3261 §26.2) over real sockets on 127.0.0.1,
/// driven by swift-nio-ssl's client trusting a test certificate: a SIPREC session answered with TLS in
/// its Via and Contact, recorded, ended by BYE; plain bytes on the TLS port get no SIP answer; SIGHUP
/// reaches new SIP connections; a TLS listener without a certificate, or a plain one beside
/// `--require-tls`, stops serve with a message naming it.
@Suite("SIP over TLS end to end", .serialized, .timeLimit(.minutes(15)))
struct SIPTLSEndToEndTests {
    /// `serve` with `--sip udp:…` (from ``SIPServerEndToEndTests/serve(_:extra:)``) and `--sip tls:…`
    /// with `pair`; returns the server and its UDP and TLS ports.
    static func serve(
        _ data: String, pair: (certificate: String, key: String), extra: [String] = []
    ) throws -> (ServeProcess, udp: Int, tls: Int) {
        let (server, udp) = try SIPServerEndToEndTests.serve(
            data, extra: ["--sip", "tls:127.0.0.1:0", "--tls-cert", pair.certificate, "--tls-key", pair.key] + extra)
        return (server, udp, try #require(server.sipPorts["tls"], "no sip=tls port in the listening line"))
    }

    @Test func aSIPRECSessionOverTLSIsAnsweredWithTLSInViaAndContactRecordedAndEndedByBye() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try TLSServeTests.certificate("first", in: root)
        let (server, udpPort, tlsPort) = try Self.serve(data, pair: first)
        defer { server.terminate() }
        #expect(udpPort != tlsPort)
        let client = try TestSIPTLSClient(serverPort: tlsPort, trusting: first.certificate)

        let invite = client.request(
            "INVITE", cseq: 1, headers: ["Require: siprec"], contentType: "multipart/mixed;boundary=cvb0undary",
            body: TestSIPClient.siprecBody())
        client.send(invite)
        let trying = try #require(client.receive())
        #expect(TestSIPClient.status(trying) == 100)
        let ok = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        // The SRC's own Via comes back, with where the connection came from (RFC 3581).
        let via = try #require(TestSIPClient.header("Via", in: ok))
        #expect(via.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(client.localPort);"), "\(via)")
        #expect(via.contains("rport=\(client.localPort)"), "\(via)")
        // The dialog's remote target is the TLS listener (not the UDP one), transport=tls.
        #expect(
            TestSIPClient.header("Contact", in: ok) == "<sip:127.0.0.1:\(tlsPort);transport=tls>;+sip.srs",
            "\(TestSIPClient.header("Contact", in: ok) ?? "no Contact")")
        let media = SIPHostileMediaTests.mediaLines(ok)
        #expect(media.count == 2 && media.allSatisfy { !$0.hasPrefix("m=audio 0 ") }, "\(media)")
        let callerPort = try #require(media.first.flatMap { Int($0.split(separator: " ")[1]) })

        // A retransmitted INVITE on the connection gets the same 2xx (same tag), not a second session.
        client.send(invite)
        let again = try #require(client.receiveFinal())
        #expect(TestSIPClient.header("To", in: again) == TestSIPClient.header("To", in: ok))
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))

        // The caller's stream (RTP stays RTP: SRTP is negotiated in SDP, not by the SIP transport):
        // consent by key 1 at 100 ms, then a 440 Hz tone.
        let sender = try RTPSender()
        sender.send(RTPCapture.tone(440, seconds: 2), to: callerPort, ssrc: 0x71_5000, keys: [(100, 1)], start: Date())
        Thread.sleep(forTimeInterval: 0.3)
        client.send(client.request("BYE", cseq: 2, inDialog: true))
        let bye = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(bye) == 200)
        #expect(TestSIPClient.header("CSeq", in: bye) == "2 BYE")

        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: client.callID).first, "the call is registered by its SIP Call-ID")
        #expect(try poll(timeout: .seconds(10)) { try catalog.call(id: call.id).endedAt != nil }, "the call is closed after the BYE")
        #expect(try catalog.consentEvents(callID: call.id).contains { $0.kind == .consent && $0.method == .dtmf })

        // SIGHUP: a renewed certificate reaches the next SIP connection.
        let second = try TLSServeTests.certificate("second", in: root)
        try FileManager.default.removeItem(atPath: first.certificate)
        try FileManager.default.removeItem(atPath: first.key)
        try FileManager.default.copyItem(atPath: second.certificate, toPath: first.certificate)
        try FileManager.default.copyItem(atPath: second.key, toPath: first.key)
        server.child.send(SIGHUP)
        #expect(try poll(timeout: .seconds(10)) { try TLSServeTests.presentedSubject(port: tlsPort).contains("CN = second") })
        let renewed = try TestSIPTLSClient(serverPort: tlsPort, trusting: second.certificate)
        renewed.send(renewed.request("OPTIONS", cseq: 1))
        #expect(TestSIPClient.status(renewed.receiveFinal()) == 200)
        #expect(throws: (any Error).self, "the old certificate is no longer presented") {
            _ = try TestSIPTLSClient(serverPort: tlsPort, trusting: TLSServeTests.certificate("other", in: root).certificate)
        }
        #expect(try server.stop() == 0)

        // The recording: the caller's tone, kept from the consent key.
        let recordings = try catalog.recordingSummaries()
        #expect(!recordings.isEmpty && recordings.allSatisfy { $0.state == .complete }, "\(recordings.map(\.state))")
        let wav = root + "/call.wav"
        #expect(try ServeEndToEndTests.cli(["calls", "export", client.callID, "--out", wav], data: data).status == 0)
        let reader = try AudioFileReader(path: wav)
        let caller = try reader.readAll(.channel(0))
        let rate = reader.sampleRate
        let window = (rate / 2)..<(rate * 3 / 2)
        #expect(caller.count >= window.upperBound, "\(caller.count) samples")
        if caller.count >= window.upperBound {
            #expect(ToneAnalysis.share(of: 440, in: caller[window], rate: Double(rate)) > 0.3, "the SRC's audio is recorded")
        }
    }

    @Test func aPlainConnectionToTheTLSPortGetsNoSIPAnswerAndTheTLSListenerStillWorks() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pair = try TLSServeTests.certificate("sip", in: root)
        let (server, _, tlsPort) = try Self.serve(data, pair: pair)
        defer { server.terminate() }
        let plain = try TestSocketClient(port: tlsPort)
        let options = TestSIPClient.request(
            "OPTIONS", cseq: 1, transport: "TCP", dialog: (40_000, tlsPort, "plain@src.test", "plain", nil))
        plain.send(Array(options.utf8))
        var received: [UInt8] = []
        while let byte = plain.read(1) { received += byte }
        #expect(!String(decoding: received, as: UTF8.self).contains("SIP/2.0"), "no SIP over a plain connection")
        #expect(received.first.map { $0 == 0x15 } ?? true, "at most a TLS alert: \(received.prefix(8))")
        #expect(plain.closedByPeer(), "the connection is closed")
        let metrics = try TestSocketClient(port: server.port).http("GET", "/metrics")?.body ?? ""
        #expect(metrics.contains(#"kind="sip.tlsHandshakeFailed""#), "the failed handshake is counted")

        let client = try TestSIPTLSClient(serverPort: tlsPort, trusting: pair.certificate)
        client.send(client.request("OPTIONS", cseq: 1))
        let answer = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(answer) == 200)
        #expect(TestSIPClient.header("Supported", in: answer) == "siprec, timer")

        // A sips: request URI over TLS: the Contact is a SIPS URI too (RFC 3261 §12.1.1).
        client.toTag = nil
        let invite = client.request("INVITE", cseq: 2, contentType: "application/sdp", body: TestSIPClient.offer())
        client.send(invite.replacingOccurrences(of: "INVITE sip:", with: "INVITE sips:"))
        let ok = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        #expect(TestSIPClient.header("Contact", in: ok) == "<sips:127.0.0.1:\(tlsPort)>;+sip.srs")
        client.send(client.request("ACK", cseq: 2, inDialog: true, branch: "z9hG4bKack2"))
        client.send(client.request("BYE", cseq: 3, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        #expect(try server.stop() == 0)
    }

    @Test func requireTLSStartsWithATLSListenerOnlyAndRefusesAPlainOneOrATLSOneWithoutACertificate() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pair = try TLSServeTests.certificate("sip", in: root)
        let executable = try #require(Repository.callvault)
        let tlsFlags = ["--tls-cert", pair.certificate, "--tls-key", pair.key]

        let withoutCertificate = try ChildProcess.run(
            executable, ["serve", "--data", data, "--http", "127.0.0.1:0", "--sip", "tls:127.0.0.1:0"], timeout: .seconds(60))
        #expect(withoutCertificate.status == 2)
        #expect(
            withoutCertificate.stderr.contains("--sip tls:127.0.0.1:0 needs --tls-cert and --tls-key"), "\(withoutCertificate.stderr)")
        let plainBesideRequired = try ChildProcess.run(
            executable,
            ["serve", "--data", data, "--http", "127.0.0.1:0", "--sip", "tls:127.0.0.1:0", "--sip", "udp:127.0.0.1:0", "--require-tls"]
                + tlsFlags,
            timeout: .seconds(60))
        #expect(plainBesideRequired.status == 2)
        #expect(
            plainBesideRequired.stderr.contains("--require-tls refuses the plain SIP listener --sip udp:127.0.0.1:0"),
            "\(plainBesideRequired.stderr)")
        let unknownTransport = try ChildProcess.run(
            executable, ["serve", "--data", data, "--http", "127.0.0.1:0", "--sip", "sctp:127.0.0.1:0"], timeout: .seconds(60))
        #expect(unknownTransport.status == 2)
        #expect(unknownTransport.stderr.contains("tls:HOST:PORT"), "\(unknownTransport.stderr)")

        // --require-tls with SIP over TLS only: it starts, and SIP over TLS answers.
        let server = try ServeProcess(
            data: data, extra: ["--sip", "tls:127.0.0.1:0", "--require-tls", "--rtp-ports", "21000-21099"] + tlsFlags)
        defer { server.terminate() }
        let port = try #require(server.sipPorts["tls"])
        #expect(server.sipPorts.count == 1)
        let client = try TestSIPTLSClient(serverPort: port, trusting: pair.certificate)
        client.send(client.request("OPTIONS", cseq: 1))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        #expect(try server.stop() == 0)
    }

    @Test func listenersParseTLSAndTheTLSSettingsAreChecked() throws {
        typealias Listener = SIPServerConfiguration.Listener
        #expect(Listener("tls:0.0.0.0:5061") == Listener(transport: .tls, host: "0.0.0.0", port: 5061))
        #expect(Listener("TLS:[::1]:5061") == Listener(transport: .tls, host: "::1", port: 5061))
        #expect(Listener("TLS:[::1]:5061")?.description == "tls:[::1]:5061")
        #expect(Listener("tls:host") == nil)
        #expect(SIPServerConfiguration.Transport.tls.viaName == "TLS" && SIPServerConfiguration.Transport.tls.isStream)
        let tls = Listener(transport: .tls, host: "127.0.0.1", port: 5061)
        let udp = Listener(transport: .udp, host: "127.0.0.1", port: 5060)
        #expect(throws: SIPServerError.tlsWithoutCertificate("tls:127.0.0.1:5061")) {
            try SIPServerConfiguration.check([udp, tls], hasCredentials: false, requireTLS: false)
        }
        #expect(throws: SIPServerError.plainListenerWithRequiredTLS("udp:127.0.0.1:5060")) {
            try SIPServerConfiguration.check([tls, udp], hasCredentials: true, requireTLS: true)
        }
        try SIPServerConfiguration.check([tls], hasCredentials: true, requireTLS: true)
        try SIPServerConfiguration.check([udp], hasCredentials: false, requireTLS: false)
    }
}
