import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

/// A sender far faster than real time (a replay, a test harness, a burst after a network stall) while
/// the catalog is slow: the stream stops reading once it holds 200 frames and reads again when the
/// catalog has answered, so the sender is slowed by TCP, never refused, and every frame is recorded.
/// (CI's demo on PostgreSQL met this: 3,900 frames at 16,000 frames/s outran the first call's set-up.)
@Suite("A slow catalog slows the sender, never refuses the call", .timeLimit(.minutes(15)))
struct SlowCatalogBackpressureTests {
    @Test func aCallSentFarFasterThanRealTimeWhileTheCatalogIsLockedIsRecordedWhole() async throws {
        // The registration waits for the lock up to the busy timeout. The lock is released 2 s in, but by
        // this task: in a full parallel run the task may wait long for a thread, so the timeout is wide.
        let server = try await EvidenceServer.start(busyTimeout: 150, policy: TenantPolicy(consentMode: .notRequired))
        defer { try? FileManager.default.removeItem(atPath: server.root) }
        // The call's registration waits on this lock; meanwhile 5,000 frames (100 s of audio, more than
        // the 3,000 a call may hold) are sent as fast as the socket takes them.
        let lock = try CatalogWriteLock(path: server.catalog.path)
        let frames = 5_000
        let port = server.port
        let token = server.token
        let sender = Task {
            try await offCooperativePool { () throws -> (code: Int, reason: String) in
                let ws = try TestSocketClient(port: port, readTimeout: 200)
                guard ws.upgrade("/v1/twilio?token=\(token)") == 101 else { return (code: 0, reason: "upgrade refused") }
                ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-burst"))
                for frame in 0..<frames {
                    ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55))
                }
                ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
                guard let close = ws.readFrame(), close.opcode == 8 else { return (code: 0, reason: "no close frame") }
                return TestSocketClient.closeCode(close.payload)
            }
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try server.catalog.call(tenantID: server.tenantID, externalID: "CA-burst") == nil, "still locked")
        try lock.release()

        let close = try await sender.value
        #expect(close.code == 1000, "closed normally, not refused: \(close)")
        try await server.stop()
        let call = try #require(try server.catalog.call(tenantID: server.tenantID, externalID: "CA-burst"))
        let recordings = try server.catalog.recordingSummaries(callID: call.id)
        #expect(recordings.count == 1 && recordings.first?.state == .complete)
        #expect(recordings.first?.durationMs == Int64(frames * 20), "every frame recorded")
        #expect(!server.logs.all.contains { $0.contains("did not answer in time") })
    }
}
