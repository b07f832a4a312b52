import CallVaultTestSupport
import Foundation
import Testing

/// A tenant that pins its platform's client certificate (`tenant set --client-cert`, issue 18), on a real
/// `callvault serve --tls-cert`: its control API requests and WSS streams need the pinned certificate on top
/// of its token (curl and `openssl s_client` as the clients), while a tenant without pins goes on as before.
@Suite("Client certificates per tenant", .serialized, .timeLimit(.minutes(15)))
struct ClientCertificateServeTests {
    /// `POST /v1/calls` over HTTPS with curl: status and body.
    static func register(
        port: Int, token: String, callID: String, trusting server: String, presenting client: (certificate: String, key: String)?
    ) throws -> (status: Int, body: String) {
        var arguments = [
            "--cacert", server, "-w", "\n%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "--data", #"{"callId":"\#(callID)"}"#,
            "https://127.0.0.1:\(port)/v1/calls",
        ]
        if let client { arguments = ["--cert", client.certificate, "--key", client.key] + arguments }
        let run = try TLSServeTests.curl(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// A Twilio stream over WSS through `openssl s_client`: consent by DTMF at once, 100 frames per track,
    /// `stop`; returns the close frame's code and reason.
    static func twilioStream(port: Int, token: String, callSid: String, presenting client: (certificate: String, key: String)?)
        throws -> (code: Int, reason: String)
    {
        let tunnel = try TestTLSTunnel(port: port, certificate: client)
        let ws = tunnel.client
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8))
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: callSid))
        ws.sendFrame(
            opcode: 1,
            Array(#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"3","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        for frame in 0..<100 {
            ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55))
            ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x66))
        }
        ws.sendFrame(
            opcode: 1, Array(#"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"\#(callSid)"},"streamSid":"MZ1"}"#.utf8))
        while let frame = ws.readFrame() {
            if frame.opcode == 8 { return TestSocketClient.closeCode(frame.payload) }
        }
        return (0, "no close frame")
    }

    @Test func aPinnedTenantNeedsItsCertificateOnHTTPSAndWSSAndATenantWithoutPinsDoesNot() throws {
        let (root, data, token) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try TLSServeTests.certificate("server", in: root)
        let platform = try TLSServeTests.certificate("platform", in: root)
        let intruder = try TLSServeTests.certificate("intruder", in: root)
        let listed = try ServeEndToEndTests.cli(["tenant", "list", "--json"], data: data)
        let acme = try #require(
            ((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["tenants"] as? [[String: Any]])?
                .first?["id"] as? String, "\(listed.stdout)")
        #expect(try ServeEndToEndTests.cli(["tenant", "set", acme, "--client-cert", platform.certificate], data: data).status == 0)
        let other = try ServeEndToEndTests.cli(["tenant", "add", "other", "--json"], data: data)
        let otherToken = try #require(
            (try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let fingerprint = try #require(
            try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/openssl"), ["x509", "-noout", "-fingerprint", "-sha256", "-in", intruder.certificate],
                timeout: .seconds(30)
            ).stdout.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
                .lowercased())

        let serve = try ServeProcess(data: data, extra: ["--tls-cert", server.certificate, "--tls-key", server.key])
        defer { serve.terminate() }
        let port = serve.port

        // The control API: the pinned certificate, none, another one, plain HTTP.
        let pinned = try Self.register(port: port, token: token, callID: "CA-API", trusting: server.certificate, presenting: platform)
        #expect(pinned.status == 201, "\(pinned.body)")
        let none = try Self.register(port: port, token: token, callID: "CA-API", trusting: server.certificate, presenting: nil)
        #expect(none.status == 403 && none.body.contains("tenant \(acme) requires a client certificate: none was presented"), "\(none)")
        #expect(none.body.contains("\"title\":\"Forbidden\""))
        let wrong = try Self.register(port: port, token: token, callID: "CA-API", trusting: server.certificate, presenting: intruder)
        #expect(wrong.status == 403 && wrong.body.contains("the certificate presented is not pinned (sha256 \(fingerprint))"), "\(wrong)")
        let plain = try #require(
            TestSocketClient(port: port).request(
                "POST", "/v1/calls", headers: ["Authorization": "Bearer \(token)"], body: #"{"callId":"CA-API"}"#))
        #expect(plain.status == 403 && plain.body.contains("the connection is not TLS"), "\(plain)")
        #expect(plain.headers["content-type"] == "application/problem+json")

        // A tenant without pins: plain, TLS without a certificate, TLS with any certificate.
        #expect(
            try Self.register(port: port, token: otherToken, callID: "CB-1", trusting: server.certificate, presenting: nil).status == 201)
        #expect(
            try Self.register(port: port, token: otherToken, callID: "CB-2", trusting: server.certificate, presenting: intruder).status
                == 201)
        let otherPlain = try TestSocketClient(port: port).request(
            "POST", "/v1/calls", headers: ["Authorization": "Bearer \(otherToken)"], body: #"{"callId":"CB-3"}"#)
        #expect(otherPlain?.status == 201, "\(String(describing: otherPlain))")

        // WSS: the pinned certificate records; without one the stream is closed 1008 before anything is kept.
        let recorded = try Self.twilioStream(port: port, token: token, callSid: "CA-WSS", presenting: platform)
        #expect(recorded.code == 1000, "\(recorded)")
        let refused = try Self.twilioStream(port: port, token: token, callSid: "CA-REFUSED", presenting: nil)
        #expect(refused.code == 1008 && refused.reason.contains("none was presented"), "\(refused)")
        let intruded = try Self.twilioStream(port: port, token: token, callSid: "CA-INTRUDER", presenting: intruder)
        #expect(intruded.code == 1008 && intruded.reason.contains("not pinned"), "\(intruded)")

        // A binary stream, plain: its header's token names the pinned tenant, so it is closed too.
        let binary = try TestSocketClient(port: port)
        #expect(binary.upgrade("/v1/stream") == 101)
        binary.sendFrame(
            opcode: 1,
            Array(#"{"callId":"CA-BINARY","tenantToken":"\#(token)","encoding":"PCMU","sampleRate":8000,"track":"caller"}"#.utf8))
        let binaryClose = try #require(binary.readFrame())
        let binaryReason = TestSocketClient.closeCode(binaryClose.payload)
        #expect(binaryClose.opcode == 8 && binaryReason.code == 1008 && binaryReason.reason.contains("not TLS"), "\(binaryReason)")

        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="tls.clientCertRefused"} 6"#), "\(metrics)")
        #expect(try serve.stop() == 0)

        let calls = try ServeEndToEndTests.cli(["calls", "list", "--json"], data: data).stdout
        #expect(calls.contains("CA-API") && calls.contains("CA-WSS") && calls.contains("CB-3"), "\(calls)")
        #expect(
            !calls.contains("CA-REFUSED") && !calls.contains("CA-INTRUDER") && !calls.contains("CA-BINARY"),
            "a refused stream registers no call")
        let recordings = try ServeEndToEndTests.cli(["recordings", "list", "--json"], data: data).stdout
        let object = try #require(try JSONSerialization.jsonObject(with: Data(recordings.utf8)) as? [String: Any])
        let states = (object["recordings"] as? [[String: Any]])?.compactMap { $0["state"] as? String }
        #expect(states == ["complete", "complete"], "\(recordings)")
    }
}
