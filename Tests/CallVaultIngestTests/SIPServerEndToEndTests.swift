import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// `callvault serve --sip` as a child process, driven over UDP on 127.0.0.1 as an SBC's SIPREC client
/// (SRC) drives a recording server.
@Suite("SIP recording server end to end", .serialized, .timeLimit(.minutes(15)))
struct SIPServerEndToEndTests {
    static func setUp() throws -> (root: String, data: String) {
        let (root, data, _) = try ServeEndToEndTests.setUp()
        #expect(try ServeEndToEndTests.cli(["tenant", "set", try tenantID(data, "acme"), "--sip-allow", "127.0.0.0/8"], data: data).status == 0)
        #expect(try ServeEndToEndTests.cli(["tenant", "add", "closed"], data: data).status == 0)
        return (root, data)
    }

    static func tenantID(_ data: String, _ name: String) throws -> String {
        let catalog = try ServeEndToEndTests.catalog(data: data)
        return try #require(try catalog.tenants().first { $0.name == name }?.id)
    }

    static func serve(_ data: String, extra: [String] = []) throws -> (ServeProcess, Int) {
        // A range of its own per server: the suites run in parallel, and a port another server holds
        // fails the bind (503), so shared ranges would make tests fail by chance.
        let low = 20_000 + Int.random(in: 0..<100) * 100  // below rtpengine (30000+), sipp (40000+) and ephemeral ports
        let server = try ServeProcess(
            data: data, extra: ["--sip", "udp:127.0.0.1:0", "--rtp-ports", "\(low)-\(low + 99)"] + extra)
        return (server, try #require(server.sipPorts["udp"], "no sip=udp port"))
    }

    @Test func aSIPRECSessionIsAnsweredRecvonlyPausedResumedAndEndedByBye() throws {
        let (root, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try Self.serve(data)
        defer { server.terminate() }
        let client = try TestSIPClient(serverPort: port)

        client.send(client.request("OPTIONS", cseq: 1))
        let options = client.receiveFinal()
        #expect(TestSIPClient.status(options) == 200)
        #expect(options.flatMap { TestSIPClient.header("Allow", in: $0) }?.contains("INVITE") == true)

        client.toTag = nil  // the OPTIONS answer's tag is not the dialog's
        let invite = client.request(
            "INVITE", cseq: 2, headers: ["Require: siprec"], contentType: "multipart/mixed;boundary=cvb0undary",
            body: TestSIPClient.siprecBody())
        client.send(invite)
        #expect(TestSIPClient.status(client.receive()) == 100)
        let ok = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(ok) == 200)
        #expect(TestSIPClient.header("Contact", in: ok)?.hasSuffix(";+sip.srs") == true)
        #expect(TestSIPClient.header("Content-Type", in: ok) == "application/sdp")
        let answer = TestSIPClient.body(ok)
        let media = answer.components(separatedBy: "\r\n").filter { $0.hasPrefix("m=audio ") }
        #expect(media.count == 2)
        #expect(media.allSatisfy { !$0.hasPrefix("m=audio 0 ") })
        #expect(answer.components(separatedBy: "a=recvonly").count - 1 == 2)
        #expect(answer.contains("a=label:1") && answer.contains("a=label:2"))
        // A retransmitted INVITE gets the same 2xx (same tag), not a second session.
        client.send(invite)
        let again = try #require(client.receiveFinal())
        #expect(TestSIPClient.header("To", in: again) == TestSIPClient.header("To", in: ok))

        client.send(client.request("ACK", cseq: 2, inDialog: true, branch: "z9hG4bKack2"))
        let callID = client.callID
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: callID).first, "the call is registered by its SIP Call-ID")

        // Pause (both streams inactive) and resume: a paused span on the call's timeline.
        client.send(client.request("INVITE", cseq: 3, inDialog: true, contentType: "application/sdp", body: TestSIPClient.offer(("inactive", "inactive"), version: 2)))
        let paused = try #require(client.receiveFinal())
        #expect(TestSIPClient.status(paused) == 200)
        #expect(TestSIPClient.body(paused).components(separatedBy: "a=inactive").count - 1 == 2)
        client.send(client.request("ACK", cseq: 3, inDialog: true, branch: "z9hG4bKack3"))
        Thread.sleep(forTimeInterval: 0.3)
        client.send(client.request("INVITE", cseq: 4, inDialog: true, contentType: "application/sdp", body: TestSIPClient.offer(version: 3)))
        let resumed = try #require(client.receiveFinal())
        #expect(TestSIPClient.body(resumed).components(separatedBy: "a=recvonly").count - 1 == 2)
        #expect(TestSIPClient.body(resumed).contains("o=CallVault") && TestSIPClient.body(resumed).contains(" 3 IN IP4"))
        client.send(client.request("ACK", cseq: 4, inDialog: true, branch: "z9hG4bKack4"))

        client.send(client.request("BYE", cseq: 5, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        let ended = try poll(timeout: .seconds(10)) { try catalog.call(id: call.id).endedAt != nil }
        #expect(ended, "the call is closed after the BYE")
        let kinds = try catalog.consentEvents(callID: call.id).map(\.kind)
        #expect(kinds.contains(.pause) && kinds.contains(.resume), "\(kinds)")
        #expect(try server.stop() == 0)
    }

    @Test func whatIsNotAllowedOrNotSupportedGetsItsStatusCodeAndOthersGoOn() throws {
        let (root, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try Self.serve(data)
        defer { server.terminate() }
        func answer(_ build: (TestSIPClient) -> String) throws -> String? {
            let client = try TestSIPClient(serverPort: port)
            client.send(build(client))
            return client.receiveFinal()
        }
        let offer = TestSIPClient.offer()
        // Garbage first: dropped and counted, nothing else harmed.
        let junk = try TestSIPClient(serverPort: port)
        junk.send([0x16, 0x03, 0x01, 0x00, 0x20] + [UInt8](repeating: 0x41, count: 300))
        junk.send("INVITE sip:acme@x SIP/2.0\r\nVia: nonsense\r\n\r\n")

        #expect(TestSIPClient.status(try answer { $0.request("INVITE", cseq: 1, tenant: "nobody", contentType: "application/sdp", body: offer) }) == 404)
        let forbidden = try answer { $0.request("INVITE", cseq: 1, tenant: "closed", contentType: "application/sdp", body: offer) }
        #expect(TestSIPClient.status(forbidden) == 403)
        let extensionNeeded = try answer { $0.request("INVITE", cseq: 1, headers: ["Require: 100rel, siprec"], contentType: "application/sdp", body: offer) }
        #expect(TestSIPClient.status(extensionNeeded) == 420)
        #expect(extensionNeeded.flatMap { TestSIPClient.header("Unsupported", in: $0) } == "100rel")
        #expect(TestSIPClient.status(try answer { $0.request("REGISTER", cseq: 1) }) == 405)
        #expect(TestSIPClient.status(try answer { $0.request("INVITE", cseq: 1) }) == 488)
        let tooShort = try answer { $0.request("INVITE", cseq: 1, headers: ["Session-Expires: 30", "Supported: timer"], contentType: "application/sdp", body: offer) }
        #expect(TestSIPClient.status(tooShort) == 422)
        #expect(tooShort.flatMap { TestSIPClient.header("Min-SE", in: $0) } == "90")
        #expect(TestSIPClient.status(try answer { $0.request("INVITE", cseq: 1, headers: [], contentType: "text/plain", body: "hi") }) == 415)
        #expect(TestSIPClient.status(try answer { $0.request("INVITE", cseq: 1, contentType: "application/sdp", body: "v=0\r\nm=audio x\r\n") }) == 400)
        #expect(TestSIPClient.status(try answer { $0.request("BYE", cseq: 1, inDialog: true) }) == 481)
        #expect(TestSIPClient.status(try answer { $0.request("CANCEL", cseq: 1) }) == 481)
        #expect(TestSIPClient.status(try answer { $0.request("OPTIONS", cseq: 1, headers: ["Max-Forwards: 0"]).replacingOccurrences(of: "Max-Forwards: 70\r\n", with: "") }) == 483)
        // And a good session still works beside all that.
        let client = try TestSIPClient(serverPort: port)
        client.send(client.request("INVITE", cseq: 1, contentType: "application/sdp", body: offer))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        // A re-INVITE before the ACK: the exchange is still open (491).
        client.send(client.request("INVITE", cseq: 2, inDialog: true, contentType: "application/sdp", body: offer))
        #expect(TestSIPClient.status(client.receiveFinal()) == 491)
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKack1"))
        client.send(client.request("BYE", cseq: 3, inDialog: true))
        #expect(TestSIPClient.status(client.receiveFinal()) == 200)
        #expect(try server.stop() == 0)
    }

    @Test func aTwoHundredNeverAcknowledgedIsRetransmittedThenEndedWithABye() throws {
        let (root, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try Self.serve(data, extra: ["--sip-t1-ms", "20"])
        defer { server.terminate() }
        let client = try TestSIPClient(serverPort: port)
        client.send(client.request("INVITE", cseq: 1, headers: ["Require: siprec"], contentType: "multipart/mixed; boundary=\"cvb0undary\"", body: TestSIPClient.siprecBody()))
        var oks = 0
        var bye: String?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, let message = client.receive() {
            if TestSIPClient.status(message) == 200 { oks += 1 }
            if message.hasPrefix("BYE ") {
                bye = message
                break
            }
        }
        #expect(oks >= 3, "the 2xx is retransmitted until the ACK (\(oks) seen)")
        let request = try #require(bye, "a BYE once 64*T1 passed without an ACK")
        #expect(TestSIPClient.header("Call-ID", in: request) == client.callID)
        #expect(TestSIPClient.header("To", in: request)?.contains("tag=\(client.fromTag)") == true)
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let call = try #require(try catalog.calls(externalID: client.callID).first)
        #expect(try poll(timeout: .seconds(10)) { try catalog.call(id: call.id).endedAt != nil })
        #expect(try server.stop() == 0)
    }

    @Test func aCancelBeforeTheAnswerEndsTheInviteWith487AndALimitAnswers503() throws {
        let (root, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try Self.serve(data, extra: ["--max-sip-dialogs", "1"])
        defer { server.terminate() }
        // INVITE and CANCEL back to back: the CANCEL arrives while the tenant is still being looked up.
        let client = try TestSIPClient(serverPort: port)
        let branch = "z9hG4bKcancelme"
        client.send(client.request("INVITE", cseq: 1, branch: branch, contentType: "application/sdp", body: TestSIPClient.offer()))
        client.send(client.request("CANCEL", cseq: 1, branch: branch))
        var statuses: [String: Int] = [:]
        while statuses.count < 2, let message = client.receiveFinal() {
            guard let method = TestSIPClient.header("CSeq", in: message)?.split(separator: " ").last else { continue }
            statuses[String(method)] = TestSIPClient.status(message)
        }
        #expect(statuses == ["CANCEL": 200, "INVITE": 487], "\(statuses)")
        client.send(client.request("ACK", cseq: 1, inDialog: true, branch: branch))
        #expect(try ServeEndToEndTests.catalog(data: data).calls(externalID: client.callID).allSatisfy { $0.endedAt != nil })

        // One dialog allowed: a second INVITE meanwhile gets 503 with Retry-After, so an SBC fails over.
        let first = try TestSIPClient(serverPort: port)
        first.send(first.request("INVITE", cseq: 1, contentType: "application/sdp", body: TestSIPClient.offer()))
        #expect(TestSIPClient.status(first.receiveFinal()) == 200)
        let second = try TestSIPClient(serverPort: port)
        second.send(second.request("INVITE", cseq: 1, contentType: "application/sdp", body: TestSIPClient.offer()))
        let busy = second.receiveFinal()
        #expect(TestSIPClient.status(busy) == 503)
        #expect(busy.flatMap { TestSIPClient.header("Retry-After", in: $0) } != nil)
        first.send(first.request("ACK", cseq: 1, inDialog: true, branch: "z9hG4bKa1"))
        first.send(first.request("BYE", cseq: 2, inDialog: true))
        #expect(TestSIPClient.status(first.receiveFinal()) == 200)
        #expect(try server.stop() == 0)
    }
}
