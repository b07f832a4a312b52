import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve`'s limits over real sockets: each closes only the stream that broke it, with a
/// reason, counted in /metrics; the other streams and their recordings are untouched.
@Suite struct ServeLimitsTests {
    typealias E2E = ServeEndToEndTests

    static let stop = Array(#"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"X"},"streamSid":"MZ1"}"#.utf8)
    static let consent = Array(#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"3","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8)

    /// A Twilio stream that has sent `start` (and the consent key) for `callSid`.
    static func call(port: Int, token: String, callSid: String) throws -> TestSocketClient {
        let ws = try TestSocketClient(port: port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, E2E.start(callSid: callSid))
        ws.sendFrame(opcode: 1, consent)
        return ws
    }

    static func send(_ ws: TestSocketClient, frames: Range<Int>) {
        for frame in frames { ws.sendFrame(opcode: 1, E2E.media("inbound", frame: frame, fill: 0x55)) }
    }

    static func recordingStates(_ data: String) throws -> [String: [String]] {
        var states: [String: [String]] = [:]
        for recording in try E2E.recordings(data: data) {
            states[recording["callId"] as? String ?? "?", default: []].append(recording["state"] as? String ?? "?")
        }
        return states
    }

    @Test func aTenantOverItsStreamLimitIsRefusedWhileOtherTenantsAndItsOpenCallGoOn() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let other = try E2E.cli(["tenant", "add", "beta", "--consent", "not-required", "--json"], data: data)
        let otherObject = try #require(try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])
        let otherToken = try #require(otherObject["token"] as? String)
        let port = E2E.freePort()
        let server = try E2E.serve(data: data, port: port, extra: ["--max-calls-per-tenant", "1", "--max-calls", "2"])
        defer { if server.isRunning { server.terminate() } }

        let first = try Self.call(port: port, token: token, callSid: "CA-1")
        Self.send(first, frames: 0..<50)
        let second = try Self.call(port: port, token: token, callSid: "CA-2")
        let refused = try #require(second.readFrame())
        let reason = TestSocketClient.closeCode(refused.payload)
        #expect(refused.opcode == 8 && reason.code == 1013 && reason.reason.contains("tenant stream limit (1)"), "\(reason)")

        let beta = try Self.call(port: port, token: otherToken, callSid: "CB-1")
        Self.send(beta, frames: 0..<50)
        // Two streams open: a third, of any tenant, meets the server's limit.
        let third = try Self.call(port: port, token: otherToken, callSid: "CB-2")
        let total = TestSocketClient.closeCode(try #require(third.readFrame()).payload)
        #expect(total.code == 1013 && total.reason.contains("server stream limit (2)"), "\(total)")

        Self.send(first, frames: 50..<100)
        for ws in [first, beta] {
            ws.sendFrame(opcode: 1, Self.stop)
            #expect(TestSocketClient.closeCode(try #require(ws.readFrame()).payload).code == 1000)
        }
        // The first call ended: its tenant may stream again.
        let again = try Self.call(port: port, token: token, callSid: "CA-3")
        Self.send(again, frames: 0..<10)
        again.sendFrame(opcode: 1, Self.stop)
        #expect(TestSocketClient.closeCode(try #require(again.readFrame()).payload).code == 1000)

        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="limit.tenantStreams"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="limit.streams"} 1"#))
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 3, "CA-1, CB-1 and CA-3 recorded; the refused ones left nothing")
        #expect(recordings.allSatisfy { $0["state"] as? String == "complete" })
        #expect(recordings.contains { $0["durationMs"] as? Int == 2000 }, "CA-1: 100 frames, untouched by the refusals")
    }

    @Test func aSilentStreamIsFinishedAtItsIdleTimeoutAndItsRecordingIsComplete() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = E2E.freePort()
        let server = try E2E.serve(data: data, port: port, extra: ["--idle-timeout", "1"])
        defer { if server.isRunning { server.terminate() } }

        let ws = try Self.call(port: port, token: token, callSid: "CA-idle")
        Self.send(ws, frames: 0..<50)
        let sent = Date()
        let close = try #require(ws.readFrame(), "closed within the client's 5 s read timeout")
        let waited = Date().timeIntervalSince(sent)
        let reason = TestSocketClient.closeCode(close.payload)
        #expect(close.opcode == 8 && reason.code == 1000 && reason.reason.contains("idle timeout"), "\(reason)")
        #expect(waited >= 0.9 && waited < 4.9, "closed \(waited) s after the last media")
        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="limit.idleTimeout"} 1"#))
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 1 && recordings[0]["state"] as? String == "complete")
        #expect(recordings[0]["durationMs"] as? Int == 1000, "the 50 frames sent")
    }

    @Test func aCallPastItsMaximumDurationIsFinishedAndClosed() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = E2E.freePort()
        let server = try E2E.serve(data: data, port: port, extra: ["--max-call-seconds", "1"])
        defer { if server.isRunning { server.terminate() } }

        let ws = try Self.call(port: port, token: token, callSid: "CA-long")
        // Stream in real time for 2 s: the server ends the call at about 1 s.
        for frame in 0..<100 {
            Self.send(ws, frames: frame..<(frame + 1))
            usleep(20_000)
        }
        let close = try #require(ws.readFrame())
        let reason = TestSocketClient.closeCode(close.payload)
        #expect(close.opcode == 8 && reason.reason.contains("maximum call duration of 1 s"), "\(reason)")
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 1 && recordings[0]["state"] as? String == "complete")
        let duration = recordings[0]["durationMs"] as? Int ?? 0
        #expect(duration > 0 && duration < 2000, "recorded until the limit, not all 2 s: \(duration) ms")
    }
}
