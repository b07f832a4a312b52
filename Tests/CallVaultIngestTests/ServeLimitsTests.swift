import CallVaultAudio
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve`'s limits over real sockets: each closes only the stream that broke it, with a
/// reason, counted in /metrics; the other streams and their recordings are untouched.
@Suite(.timeLimit(.minutes(15))) struct ServeLimitsTests {
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
        let server = try ServeProcess(data: data, extra: ["--max-calls-per-tenant", "1", "--max-calls", "2"])
        defer { server.terminate() }
        let port = server.port

        let first = try Self.call(port: port, token: token, callSid: "CA-1")
        Self.send(first, frames: 0..<50)
        try server.waitForActiveCalls(1)
        let second = try Self.call(port: port, token: token, callSid: "CA-2")
        let refused = try #require(second.readFrame())
        let reason = TestSocketClient.closeCode(refused.payload)
        #expect(refused.opcode == 8 && reason.code == 1013 && reason.reason.contains("tenant stream limit (1)"), "\(reason)")

        let beta = try Self.call(port: port, token: otherToken, callSid: "CB-1")
        Self.send(beta, frames: 0..<50)
        try server.waitForActiveCalls(2)
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
        try server.waitForActiveCalls(0)
        let again = try Self.call(port: port, token: token, callSid: "CA-3")
        Self.send(again, frames: 0..<10)
        again.sendFrame(opcode: 1, Self.stop)
        #expect(TestSocketClient.closeCode(try #require(again.readFrame()).payload).code == 1000)

        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="limit.tenantStreams"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="limit.streams"} 1"#))
        try server.stop()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 3, "CA-1, CB-1 and CA-3 recorded; the refused ones left nothing")
        #expect(recordings.allSatisfy { $0["state"] as? String == "complete" })
        #expect(recordings.contains { $0["durationMs"] as? Int == 2000 }, "CA-1: 100 frames, untouched by the refusals")
    }

    @Test func aSilentStreamIsFinishedAtItsIdleTimeoutAndItsRecordingIsComplete() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data, extra: ["--idle-timeout", "1"])
        defer { server.terminate() }
        let port = server.port

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
        try server.stop()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 1 && recordings[0]["state"] as? String == "complete")
        #expect(recordings[0]["durationMs"] as? Int == 1000, "the 50 frames sent")
        let ended = try Self.endedByLimit(data: data, token: token)
        #expect(ended.count == 1)
        #expect(ended.first?.subjectId == ended.first?.callID, "the entry names the call")
        #expect(ended.first?.details == ["limit": "idleTimeout", "limitMs": "1000"])
        #expect(try E2E.cli(["audit", "verify"], data: data).status == 0, "the chain still verifies")
    }

    /// The `call.ended_by_limit` audit entries, each with the id of the call `call.started` registered for
    /// its subject. Checks no entry of that kind carries the tenant token.
    static func endedByLimit(data: String, token: String) throws
        -> [(subjectId: String?, callID: String?, details: [String: String])]
    {
        let listed = try E2E.cli(["audit", "list", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        let started = entries.filter { $0["action"] as? String == "call.started" }
            .compactMap { $0["subjectId"] as? String }
        return try entries.filter { $0["action"] as? String == "call.ended_by_limit" }.map { entry in
            let text = String(decoding: try JSONSerialization.data(withJSONObject: entry), as: UTF8.self)
            #expect(!text.contains(token) && !text.contains("+1555"), "no token or number in the entry")
            #expect(entry["actor"] as? String == "ingest" && entry["tenantId"] is String)
            let subject = entry["subjectId"] as? String
            return (subject, started.first { $0 == subject }, entry["details"] as? [String: String] ?? [:])
        }
    }

    @Test func aCallPastItsMaximumDurationIsFinishedAndClosed() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data, extra: ["--max-call-seconds", "1"])
        defer { server.terminate() }
        let port = server.port

        let ws = try Self.call(port: port, token: token, callSid: "CA-long")
        // Stream in real time for 2 s: the server ends the call at about 1 s.
        for frame in 0..<100 {
            Self.send(ws, frames: frame..<(frame + 1))
            usleep(20_000)
        }
        let close = try #require(ws.readFrame())
        let reason = TestSocketClient.closeCode(close.payload)
        #expect(close.opcode == 8 && reason.reason.contains("maximum call duration of 1 s"), "\(reason)")
        try server.stop()
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.count == 1 && recordings[0]["state"] as? String == "complete")
        let duration = recordings[0]["durationMs"] as? Int ?? 0
        #expect(duration > 0 && duration < 2000, "recorded until the limit, not all 2 s: \(duration) ms")
        let ended = try Self.endedByLimit(data: data, token: token)
        #expect(ended.count == 1 && ended.first?.callID != nil)
        #expect(ended.first?.details == ["limit": "callDuration", "limitMs": "1000"])
        #expect(try E2E.cli(["audit", "verify"], data: data).status == 0)
    }

    /// A Twilio `mark` message of exactly `bytes` bytes (its name pads it).
    static func mark(bytes: Int) -> [UInt8] {
        let head = #"{"event":"mark","streamSid":"MZ1","sequenceNumber":"4","mark":{"name":""#
        let tail = #""}}"#
        return Array((head + String(repeating: "m", count: bytes - head.utf8.count - tail.utf8.count) + tail).utf8)
    }

    /// The μ-law byte of frame `frame` of the untouched call: each 20 ms differs, so a frame lost, moved or
    /// doubled shows in the export.
    static func fill(_ frame: Int) -> UInt8 { UInt8(0x20 + frame % 90) }

    /// The caller (left) channel of a stereo 16-bit WAV file `callvault calls export` wrote.
    static func exportedCaller(data: String, callID: String, to path: String) throws -> [Int16] {
        let exported = try E2E.cli(["calls", "export", callID, "--out", path], data: data)
        #expect(exported.status == 0, "\(exported.stdout)")
        let reader = try AudioFileReader(path: path)
        #expect(reader.channels == 2 && reader.sampleRate == 8000)
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        let stereo = raw.dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        return stride(from: 0, to: stereo.count, by: 2).map { stereo[$0] }
    }

    @Test func aMessageOverTheSizeLimitClosesOnlyItsStreamWith1009AndExactlyTheLimitIsAccepted() throws {
        let (root, data, token) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)  // --max-message-bytes 65536 by default
        defer { server.terminate() }
        let port = server.port

        let calm = try Self.call(port: port, token: token, callSid: "CA-calm")
        for frame in 0..<50 { calm.sendFrame(opcode: 1, E2E.media("inbound", frame: frame, fill: Self.fill(frame))) }

        // Exactly 64 KiB in one frame is accepted: the call goes on and ends normally.
        let exact = try Self.call(port: port, token: token, callSid: "CA-exact")
        exact.sendFrame(opcode: 1, Self.mark(bytes: 65_536))
        Self.send(exact, frames: 0..<10)
        exact.sendFrame(opcode: 1, Self.stop)
        let exactClose = TestSocketClient.closeCode(try #require(exact.readFrame()).payload)
        #expect(exactClose.code == 1000, "\(exactClose)")

        // One byte more, in one frame: refused from the frame's header, closed once with 1009.
        let over = try Self.call(port: port, token: token, callSid: "CA-over")
        over.sendFrame(opcode: 1, Self.mark(bytes: 65_537))
        let overClose = try #require(over.readFrame())
        #expect(overClose.opcode == 8)
        #expect(TestSocketClient.closeCode(overClose.payload) == (1009, "message larger than the 65536-byte limit"))
        #expect(over.readFrame() == nil, "one close frame, then the connection is closed")

        // Fragments of 40,000 and 30,000 bytes, each under the limit, together over it.
        let fragmented = try Self.call(port: port, token: token, callSid: "CA-frag")
        let message = Self.mark(bytes: 70_000)
        fragmented.sendFrame(opcode: 1, Array(message[..<40_000]), fin: false)
        fragmented.sendFrame(opcode: 0, Array(message[40_000...]), fin: true)
        let fragmentedClose = try #require(fragmented.readFrame())
        #expect(fragmentedClose.opcode == 8)
        let fragmentedReason = TestSocketClient.closeCode(fragmentedClose.payload)
        #expect(fragmentedReason == (1009, "message larger than the 65536-byte limit"))
        #expect(fragmented.readFrame() == nil)

        // The first call never noticed: it streams on and ends normally.
        for frame in 50..<100 { calm.sendFrame(opcode: 1, E2E.media("inbound", frame: frame, fill: Self.fill(frame))) }
        calm.sendFrame(opcode: 1, Self.stop)
        let calmClose = try #require(calm.readFrame(), "no frame from the server before its close")
        #expect(calmClose.opcode == 8 && TestSocketClient.closeCode(calmClose.payload).code == 1000)

        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_protocol_errors_total{kind="websocket.messageTooLarge"} 2"#), "\(metrics)")
        #expect(try server.stop() == 0)

        let caller = try Self.exportedCaller(data: data, callID: "CA-calm", to: root + "/calm.wav")
        #expect(caller.count == 100 * 160, "2 s: all 100 frames sent")
        let expected = (0..<100).flatMap { [Int16](repeating: G711.muLawToLinear(Self.fill($0)), count: 160) }
        #expect(caller == expected, "the export holds exactly what was sent")
        #expect(try Self.exportedCaller(data: data, callID: "CA-exact", to: root + "/exact.wav").count == 10 * 160)
    }

    /// A tenant that needs no consent, for AudioSocket calls recorded from their first frame.
    static func tenantWithoutConsent(data: String) throws -> String {
        let added = try E2E.cli(["tenant", "add", "asterisk", "--consent", "not-required", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])
        return try #require(object["token"] as? String)
    }

    /// AudioSocket 8 kHz audio for frame `frame`: 160 samples of a value that differs every frame.
    static func sample(_ frame: Int) -> Int16 { Int16(frame * 97 - 4_000) }

    static func audioSocketFrame(_ frame: Int) -> [UInt8] {
        let value = UInt16(bitPattern: sample(frame))
        return [0x10, 0x01, 0x40] + (0..<160).flatMap { _ in [UInt8(value & 0xFF), UInt8(value >> 8)] }
    }

    static func uuidMessage(_ uuid: UUID) -> [UInt8] {
        [0x01, 0x00, 0x10] + withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    @Test func audioSocketRefusalsGetTheErrorMessageAndARegisteredCallIsRecordedWhole() throws {
        let (root, data, _) = try E2E.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let token = try Self.tenantWithoutConsent(data: data)
        let server = try ServeProcess(data: data, audioSocket: true, extra: ["--max-calls-per-tenant", "1"])
        defer { server.terminate() }
        let port = server.port
        let audioPort = try #require(server.audioSocketPort)
        let (first, second, third) = (UUID(), UUID(), UUID())
        let control = try TestSocketClient(port: port)
        for uuid in [first, second, third] {
            let body = #"{"callId":"\#(uuid.uuidString.lowercased())"}"#
            let auth = ["Authorization": "Bearer \(token)"]
            #expect(control.http("POST", "/v1/calls", headers: auth, body: body)?.status == 201)
        }
        let refusal: [UInt8] = [0xFF, 0x00, 0x01, 0x80]

        // An unregistered UUID: error message, then the connection is closed.
        let stranger = try TestSocketClient(port: audioPort)
        stranger.send(Self.uuidMessage(UUID()))
        #expect(stranger.read(4) == refusal)
        #expect(stranger.closedByPeer())

        // A zero-length audio message on a registered call.
        let empty = try TestSocketClient(port: audioPort)
        empty.send(Self.uuidMessage(third) + [0x10, 0x00, 0x00])
        #expect(empty.read(4) == refusal)
        #expect(empty.closedByPeer())

        // The tenant's one stream, then a second one over its limit.
        let asterisk = try TestSocketClient(port: audioPort)
        asterisk.send(Self.uuidMessage(first) + (0..<50).flatMap(Self.audioSocketFrame))
        try server.waitForActiveCalls(1)  // the first call is admitted before the second tries
        let overLimit = try TestSocketClient(port: audioPort)
        overLimit.send(Self.uuidMessage(second))
        #expect(overLimit.read(4) == refusal)
        #expect(overLimit.closedByPeer())

        // The open call goes on; its hangup is answered with a hangup.
        asterisk.send((50..<100).flatMap(Self.audioSocketFrame) + [0x00, 0x00, 0x00])
        #expect(asterisk.read(3) == [0x00, 0x00, 0x00])
        #expect(asterisk.closedByPeer())

        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        for kind in ["audiosocket.unregisteredCall", "audiosocket.wrongLength", "limit.tenantStreams"] {
            #expect(metrics.contains(#"callvault_protocol_errors_total{kind="\#(kind)"} 1"#), "\(kind): \(metrics)")
        }
        #expect(try server.stop() == 0)
        let caller = try Self.exportedCaller(
            data: data, callID: first.uuidString.lowercased(), to: root + "/asterisk.wav")
        #expect(caller.count == 100 * 160, "2 s: all 100 frames")
        #expect(caller == (0..<100).flatMap { [Int16](repeating: Self.sample($0), count: 160) })
        let recordings = try E2E.recordings(data: data)
        #expect(recordings.contains { $0["durationMs"] as? Int == 2000 && $0["state"] as? String == "complete" })
    }
}
