import CallVaultTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import CallVaultIngest

/// Keeps what an AudioSocket connection delivered; refuses a UUID whose first byte is 0xEE, as an
/// unregistered call is refused.
final class CollectingAudioSocketSession: AudioSocketSession, @unchecked Sendable {
    let log: SessionLog
    init(log: SessionLog) { self.log = log }

    func receive(_ message: AudioSocketMessage) -> MediaClose? {
        if case .uuid(let uuid) = message, uuid.uuid.0 == 0xEE {
            log.events.withLock { $0.append("refused \(uuid.uuidString)") }
            return .policy("call \(uuid.uuidString) was not registered")
        }
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

@Suite("AudioSocket server over a real socket", .timeLimit(.minutes(15)))
struct AudioSocketServerTests {
    private func start(_ log: SessionLog) async throws -> (AudioSocketServer, ServiceGroup, Task<Void, any Error>, Int) {
        let server = AudioSocketServer(host: "127.0.0.1", port: 0, logger: Logger(label: "test")) { _ in
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
        // A normal end: the server answers with the hangup, not an error, and closes.
        #expect(client.read(3) == Self.hangup)
        #expect(client.closedByPeer())
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test func garbageClosesThatConnectionOnlyWithAnErrorMessage() async throws {
        let log = SessionLog()
        let (_, group, task, port) = try await start(log)
        let good = try TestSocketClient(port: port)
        good.send([0x01, 0x00, 0x10] + [UInt8](repeating: 0xAA, count: 16))
        #expect(await log.wait(for: "uuid"))
        let bad = try TestSocketClient(port: port)
        bad.send([0x42, 0x00, 0x01, 0x00])  // unknown kind
        #expect(await log.wait(for: "end 1007"))
        #expect(log.all.filter { $0.hasPrefix("end 1007") }.count == 1)
        #expect(bad.read(4) == Self.applicationError, "an AudioSocket error message, not a hangup")
        #expect(bad.closedByPeer())
        // The good connection still streams.
        good.send([0x10, 0x00, 0x02, 0x01, 0x02])
        #expect(await log.wait(for: "audio 8000 2"))
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(log.all.contains("end 1001 server shutting down"))
        #expect(good.read(3) == Self.hangup, "shutdown ends the call normally")
    }

    /// `0xFF | length 1 | 0x80`: the error message the server sends before closing on a refusal.
    static let applicationError: [UInt8] = [0xFF, 0x00, 0x01, AudioSocketErrorCode.applicationError.rawValue]
    static let hangup: [UInt8] = [0x00, 0x00, 0x00]

    static let someUUID: [UInt8] = [0x01, 0x00, 0x10] + [UInt8](repeating: 0xAA, count: 16)

    @Test(
        arguments: [
            ("zero-length audio", someUUID + [0x10, 0x00, 0x00], "end 1007"),
            ("length over the 16 KiB limit", someUUID + [0x10, 0x40, 0x01], "end 1007"),
            ("unknown kind", [0x42, 0x00, 0x00], "end 1007"),
            ("audio before the UUID", [0x10, 0x00, 0x02, 0x01, 0x02], "end 1007"),
            ("odd audio length", someUUID + [0x10, 0x00, 0x03, 1, 2, 3], "end 1007"),
            ("a refused UUID", [0x01, 0x00, 0x10, 0xEE] + [UInt8](repeating: 0xAD, count: 15), "end 1008"),
        ] as [(String, [UInt8], String)])
    func aRefusalGetsTheErrorMessageAndClosesThatConnectionOnly(_ what: String, bytes: [UInt8], end: String)
        async throws
    {
        let log = SessionLog()
        let (_, group, task, port) = try await start(log)
        let good = try TestSocketClient(port: port)
        good.send([0x01, 0x00, 0x10] + [UInt8](repeating: 0x11, count: 16))
        #expect(await log.wait(for: "uuid"))
        let bad = try TestSocketClient(port: port)
        bad.send(bytes)
        #expect(bad.read(4) == Self.applicationError, "\(what)")
        #expect(bad.closedByPeer(), "\(what)")
        #expect(await log.wait(for: end), "\(what): \(log.all)")
        #expect(log.all.filter { $0.hasPrefix("end") }.count == 1, "only the refused connection ended")
        good.send([0x10, 0x00, 0x02, 0x01, 0x02] + Self.hangup)
        #expect(await log.wait(for: "end 1000"))
        #expect(good.read(3) == Self.hangup)
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
