import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import CallVaultIngest

/// The media handler reads the client's frames itself (``WebSocketFrameHead``, no frame object per
/// message): checked on an embedded channel with frames split anywhere across reads, and with frames
/// that break RFC 6455 refused with the close code NIO's decoder led to.
@Suite("Media WebSocket framing")
struct MediaWebSocketFramingTests {
    private static let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    private func channel(_ log: SessionLog, maximumMessageBytes: Int = 4096) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try MediaWebSocketPipeline.configure(
            channel.pipeline.syncOperations, session: CollectingSession(endpoint: .twilio, tenantID: nil, log: log),
            maximumMessageBytes: maximumMessageBytes, metrics: IngestMetrics(), logger: Logger(label: "test"))
        return channel
    }

    /// One frame as a client sends it (masked unless `mask` is nil), with the shortest length encoding
    /// unless `length` overrides the one announced.
    static func frame(
        opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8]? = mask, length: Int? = nil
    ) -> [UInt8] {
        let count = length ?? payload.count
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if count < 126 {
            frame.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            frame += [maskBit | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            frame.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((count >> shift) & 0xFF)) }
        }
        guard let mask else { return frame + payload }
        return frame + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    }

    @Test func messagesSplitAnywhereAcrossReadsArriveWholeAndInOrder() throws {
        let texts = ["", "hello", String(repeating: "a", count: 125), String(repeating: "b", count: 126),
            String(repeating: "c", count: 4096)]
        var stream = texts.flatMap { Self.frame(opcode: 1, Array($0.utf8)) }
        stream += Self.frame(opcode: 1, Array("unmasked".utf8), mask: nil)
        // A message in three fragments, a ping between two of them.
        stream += Self.frame(opcode: 1, Array("frag".utf8), fin: false) + Self.frame(opcode: 0, Array("ment".utf8), fin: false)
        stream += Self.frame(opcode: 9, Array("ping".utf8)) + Self.frame(opcode: 0, Array("ed".utf8))
        let expected = (texts + ["unmasked", "fragmented"]).map { "text \($0)" }
        for chunk in [1, 2, 3, 7, 13, 64, 1000, stream.count] {
            let log = SessionLog()
            let channel = try channel(log)
            for start in stride(from: 0, to: stream.count, by: chunk) {
                try channel.writeInbound(ByteBuffer(bytes: stream[start..<min(start + chunk, stream.count)]))
            }
            #expect(Array(log.all.dropFirst()) == expected, "in reads of \(chunk) bytes")
            _ = try? channel.finish()
        }
    }

    @Test func framesBreakingTheRulesAreRefusedWithTheirCloseCode() throws {
        let cases: [(String, [UInt8], UInt16)] = [
            // Refused from its head: the payload never needs to arrive.
            ("over the limit", Self.frame(opcode: 1, [], length: 4097), 1009),
            ("over the limit, 64-bit length", Self.frame(opcode: 2, [], length: 1 << 40), 1009),
            ("a control frame over 125 bytes", Self.frame(opcode: 9, [UInt8](repeating: 1, count: 126)), 1002),
            ("a fragmented control frame", Self.frame(opcode: 9, [1], fin: false), 1002),
        ]
        for (name, bytes, code) in cases {
            let log = SessionLog()
            let channel = try channel(log)
            // A message after the bad frame is never read.
            try channel.writeInbound(ByteBuffer(bytes: bytes + Self.frame(opcode: 1, Array("late".utf8))))
            #expect(Array(log.all.dropFirst()) == ["end \(code)"], "\(name)")
            _ = try? channel.finish()
        }
    }
}
