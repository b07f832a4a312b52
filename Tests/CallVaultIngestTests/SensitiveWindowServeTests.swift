import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

/// Sensitive windows over a real socket (issue 17): the bot opens one with the control API and closes it
/// with a Twilio mark echoed after its audio; both are stored on the call's timeline and audited.
@Suite("Sensitive windows from the bot, over a real socket", .timeLimit(.minutes(15)))
struct SensitiveWindowServeTests {
    static let markEnd = Array(
        #"{"event":"mark","sequenceNumber":"60","streamSid":"MZ1","mark":{"name":"sensitive-end"}}"#.utf8)
    static let markOther = Array(
        #"{"event":"mark","sequenceNumber":"61","streamSid":"MZ1","mark":{"name":"greeting-done"}}"#.utf8)

    @Test func theAPIOpensAWindowAndAMarkClosesItOnTheCallsTimeline() async throws {
        let server = try await EvidenceServer.start(policy: TenantPolicy(consentMode: .notRequired))
        defer { try? FileManager.default.removeItem(atPath: server.root) }
        let auth = ["Authorization": "Bearer \(server.token)"]
        let idle = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls/CA-none/events", headers: auth, body: #"{"type":"sensitive-start"}"#))
        #expect(idle.status == 404, "\(idle)")

        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(server.token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-win"))
        for frame in 0..<50 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        // Wait until the first second is on the timeline, so the window opens after it.
        _ = poll(timeout: .seconds(10)) {
            guard let call = try? server.catalog.call(tenantID: server.tenantID, externalID: "CA-win") else { return false }
            return ((try? server.catalog.recordingSummaries(callID: call.id)) ?? []).contains { $0.durationMs >= 900 }
        }
        let opened = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls/CA-win/events", headers: auth, body: #"{"type":"sensitive-start"}"#))
        #expect(opened.status == 200 && opened.body.contains("sensitive-start"), "\(opened)")
        for frame in 50..<100 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, Self.markOther)
        ws.sendFrame(opcode: 1, Self.markEnd)
        for frame in 100..<150 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
        let close = try #require(ws.readFrame())
        #expect(close.opcode == 8 && TestSocketClient.closeCode(close.payload).code == 1000)
        let after = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls/CA-win/events", headers: auth, body: #"{"type":"sensitive-end"}"#))
        #expect(after.status == 409 && after.body.contains("not streaming"), "\(after)")
        try await server.stop()

        let call = try #require(try server.catalog.call(tenantID: server.tenantID, externalID: "CA-win"))
        let windows = try server.catalog.sensitiveWindows(callID: call.id)
        #expect(windows.count == 1, "\(windows)")
        let window = try #require(windows.first)
        #expect((900...1_000).contains(window.startMs), "opened after the first second: \(window)")
        #expect(window.endMs.map { (window.startMs...2_000).contains($0) } == true, "closed by the mark: \(window)")
        #expect(window.source == .api)
        let actions = try server.catalog.auditLog.entries().map(\.action)
        #expect(actions.contains(.sensitiveWindowOpened) && actions.contains(.sensitiveWindowClosed))
        let recordings = try server.catalog.recordingSummaries(callID: call.id)
        #expect(recordings.first?.durationMs == 3_000, "the recording went on through the window")
    }
}
