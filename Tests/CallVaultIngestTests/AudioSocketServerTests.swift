import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import CallVaultIngest

/// Keeps what an AudioSocket connection delivered.
final class CollectingAudioSocketSession: AudioSocketSession, @unchecked Sendable {
    let log: SessionLog
    init(log: SessionLog) { self.log = log }

    func receive(_ message: AudioSocketMessage) -> MediaClose? {
        let line: String =
            switch message {
            case .uuid(let uuid): "uuid \(uuid.uuidString)"
            case .audio(let rate, let payload): "audio \(rate) \(payload.count)"
            case .dtmf(let digit): "dtmf \(digit)"
            case .hangup: "hangup"
            case .error(let code): "error \(code.rawValue)"
            }
        log.events.withLock { $0.append(line) }
        return nil
    }

    func end(_ reason: MediaClose) { log.events.withLock { $0.append("end \(reason.code) \(reason.reason)") } }
}

@Suite("AudioSocket server over a real socket")
struct AudioSocketServerTests {
    private func start(_ log: SessionLog) async throws -> (AudioSocketServer, ServiceGroup, Task<Void, any Error>, Int) {
        let server = AudioSocketServer(host: "127.0.0.1", port: 0, logger: Logger(label: "test")) {
            CollectingAudioSocketSession(log: log)
        }
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let task = Task { try await group.run() }
        let port = try await server.localAddress().port ?? 0
        return (server, group, task, port)
    }

    @Test func aCallSplitAcrossReadsArrivesWholeAndEndsOnHangup() async throws {
        let log = SessionLog()
        let (_, group, task, port) = try await start(log)
        let uuid = UUID(uuidString: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")!
        var stream: [UInt8] = [0x01, 0x00, 0x10] + withUnsafeBytes(of: uuid.uuid) { Array($0) }
        for _ in 0..<3 { stream += [0x10, 0x01, 0x40] + [UInt8](repeating: 7, count: 320) }
        stream += [0x03, 0x00, 0x01, UInt8(ascii: "1")]
        stream += [0x00, 0x00, 0x00]
        let client = try TestSocketClient(port: port)
        // Send in awkward pieces: 1, 2, 5, 7 ... bytes, so headers and payloads are split.
        var offset = 0
        var size = 1
        while offset < stream.count {
            let end = min(stream.count, offset + size)
            client.send(Array(stream[offset..<end]))
            offset = end
            size = size * 2 + 1
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(await log.wait(for: "end 1000"))
        #expect(log.all == ["uuid \(uuid.uuidString)", "audio 8000 320", "audio 8000 320", "audio 8000 320", "dtmf 1", "hangup", "end 1000 done"])
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test func garbageHangsUpThatConnectionOnlyWithAReason() async throws {
        let log = SessionLog()
        let (_, group, task, port) = try await start(log)
        let good = try TestSocketClient(port: port)
        good.send([0x01, 0x00, 0x10] + [UInt8](repeating: 0xAA, count: 16))
        #expect(await log.wait(for: "uuid"))
        let bad = try TestSocketClient(port: port)
        bad.send([0x42, 0x00, 0x01, 0x00])  // unknown kind
        #expect(await log.wait(for: "end 1007"))
        #expect(log.all.filter { $0.hasPrefix("end 1007") }.count == 1)
        // The good connection still streams.
        good.send([0x10, 0x00, 0x02, 0x01, 0x02])
        #expect(await log.wait(for: "audio 8000 2"))
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(log.all.contains("end 1001 server shutting down"))
    }
}
