import CallVaultTestSupport
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import CallVaultIngest

/// How TCP cuts a client's bytes into reads must never change what the media handler does: random
/// streams of frames (good ones, and ones with a bit flipped, a byte dropped or garbage added) fed in
/// one read and cut at random points must give the session the same messages and end and the client the
/// same bytes back. Seeded, so a failure repeats: 3,000 streams (about 4 s in a debug build), or
/// `CALLVAULT_SPLIT_STREAMS` of them. `Fuzz/WebSocket` (scripts/fuzz) runs the same check coverage-guided.
@Suite("Media WebSocket: reads cut anywhere")
struct MediaWebSocketSplitTests {
    struct Outcome: Equatable {
        var log: [String]
        var written: [UInt8]
        var active: Bool
    }

    private static let silent = Logger(label: "split", factory: { _ in SwiftLogNoOpLogHandler() })

    private func run(_ reads: [ArraySlice<UInt8>], limit: Int) throws -> Outcome {
        let log = SessionLog()
        let channel = EmbeddedChannel()
        try MediaWebSocketPipeline.configure(
            channel.pipeline.syncOperations, session: CollectingSession(endpoint: .twilio, tenantID: nil, log: log),
            maximumMessageBytes: limit, metrics: IngestMetrics(), logger: Self.silent)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var written: [UInt8] = []
        for read in reads where channel.isActive {
            try channel.writeInbound(ByteBuffer(bytes: read))
            while let part = try channel.readOutbound(as: ByteBuffer.self) { written += part.readableBytesView }
        }
        let outcome = Outcome(log: log.all, written: written, active: channel.isActive)
        _ = try? channel.finish()
        return outcome
    }

    private static func randomStream(_ random: inout SeededRandom) -> [UInt8] {
        typealias Framing = MediaWebSocketFramingTests
        var stream: [UInt8] = []
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            let size = [0, 1, 5, 125, 126, 200, 300, 1000][Int.random(in: 0..<8, using: &random)]
            let payload = (0..<size).map { _ in UInt8.random(in: 97...122, using: &random) }
            var frame: [UInt8]
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3: frame = Framing.frame(opcode: Bool.random(using: &random) ? 1 : 2, payload)
            case 4: frame = Framing.frame(opcode: 1, payload, fin: false)
            case 5: frame = Framing.frame(opcode: 0, payload, fin: Bool.random(using: &random))
            case 6: frame = Framing.frame(opcode: 9, Array(payload.prefix(125)))
            case 7: frame = Framing.frame(opcode: 10, Array(payload.prefix(3)))
            case 8: frame = Framing.frame(opcode: 8, [3, 232] + payload.prefix(10))
            default: frame = (0..<Int.random(in: 1...12, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            switch Int.random(in: 0..<12, using: &random) {
            case 0: frame[Int.random(in: 0..<frame.count, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random)
            case 1: frame.remove(at: Int.random(in: 0..<frame.count, using: &random))
            default: break
            }
            stream += frame
        }
        return stream
    }

    @Test func whatTheHandlerDoesDoesNotDependOnHowReadsCutTheBytes() throws {
        var random = SeededRandom(seed: 20)
        let count = ProcessInfo.processInfo.environment["CALLVAULT_SPLIT_STREAMS"].flatMap { Int($0) } ?? 3_000
        for index in 0..<count {
            let stream = Self.randomStream(&random)
            let limit = [16, 125, 300, 4096][index & 3]
            var reads: [ArraySlice<UInt8>] = []
            var start = 0
            while start < stream.count {
                let end = min(stream.count, start + Int.random(in: 1...24, using: &random))
                reads.append(stream[start..<end])
                start = end
            }
            let whole = try run([stream[...]], limit: limit)
            let cut = try run(reads, limit: limit)
            #expect(whole == cut, "stream \(index) (\(stream.count) bytes, limit \(limit)), cuts \(reads.map(\.count))")
            if whole != cut { return }
        }
    }
}
