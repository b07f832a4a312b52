import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import CallVaultIngest

/// The media handler reads the client's frames itself (``WebSocketFrameHead``, no frame object per
/// message): checked on an embedded channel with frames split anywhere across reads, and against RFC 6455
/// §5.2–5.5: frames that break it refused with 1002 (1009 over the limit, 1007 for a close reason that is
/// not UTF-8), pings answered with their payload, a close with a close.
@Suite("Media WebSocket framing")
struct MediaWebSocketFramingTests {
    private static let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    private func channel(_ log: SessionLog, maximumMessageBytes: Int = 4096) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try MediaWebSocketPipeline.configure(
            channel.pipeline.syncOperations, session: CollectingSession(endpoint: .twilio, tenantID: nil, log: log),
            maximumMessageBytes: maximumMessageBytes, metrics: IngestMetrics(), logger: Logger(label: "test"))
        // Active, as a connected socket is: closing it makes it inactive.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// One frame as a client sends it (masked unless `mask` is nil), with the shortest length encoding
    /// unless `length` overrides the one announced.
    /// `lengthForm` forces the 16-bit (126) or 64-bit (127) length form; `rsv` sets bits 4–6 of the first byte.
    static func frame(
        opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8]? = mask, length: Int? = nil,
        lengthForm: UInt8? = nil, rsv: UInt8 = 0
    ) -> [UInt8] {
        let count = length ?? payload.count
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
        if lengthForm == nil && count < 126 {
            frame.append(maskBit | UInt8(count))
        } else if lengthForm == 126 || (lengthForm == nil && count <= 0xFFFF) {
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
        // A message in three fragments, a ping between two of them.
        stream += Self.frame(opcode: 1, Array("frag".utf8), fin: false) + Self.frame(opcode: 0, Array("ment".utf8), fin: false)
        stream += Self.frame(opcode: 9, Array("ping".utf8)) + Self.frame(opcode: 0, Array("ed".utf8))
        let expected = (texts + ["fragmented"]).map { "text \($0)" }
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

    /// The frames the server wrote, as (opcode, payload): servers do not mask.
    static func written(_ channel: EmbeddedChannel) throws -> [(opcode: UInt8, payload: [UInt8])] {
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        var frames: [(UInt8, [UInt8])] = []
        while let first = bytes.readInteger(as: UInt8.self), let second = bytes.readInteger(as: UInt8.self) {
            var length = Int(second & 0x7F)
            if length == 126 { length = Int(bytes.readInteger(as: UInt16.self)!) }
            if length == 127 { length = Int(bytes.readInteger(as: UInt64.self)!) }
            frames.append((first & 0x0F, bytes.readBytes(length: length)!))
        }
        return frames
    }

    /// The close code of the one close frame written, if any.
    static func closeCode(_ frames: [(opcode: UInt8, payload: [UInt8])]) -> UInt16? {
        let closes = frames.filter { $0.opcode == 8 }
        guard closes.count == 1, closes[0].payload.count >= 2 else { return nil }
        return UInt16(closes[0].payload[0]) << 8 | UInt16(closes[0].payload[1])
    }

    static let refusals: [(String, [UInt8], UInt16)] = [
        // Refused from its head: the payload never needs to arrive.
        ("over the limit", frame(opcode: 1, [], length: 4097), 1009),
        ("over the limit, 64-bit length", frame(opcode: 2, [], length: 1 << 40), 1009),
        ("a control frame over 125 bytes", frame(opcode: 9, [UInt8](repeating: 1, count: 126)), 1002),
        ("a close frame over 125 bytes", frame(opcode: 8, [3, 232] + [UInt8](repeating: 97, count: 124)), 1002),
        ("a fragmented ping", frame(opcode: 9, [1], fin: false), 1002),
        ("a fragmented close", frame(opcode: 8, [3, 232], fin: false), 1002),
        ("a 16-bit length below 126", frame(opcode: 1, Array("short".utf8), lengthForm: 126), 1002),
        ("a 16-bit length of 0", frame(opcode: 1, [], lengthForm: 126), 1002),
        ("a 64-bit length below 65536", frame(opcode: 1, Array("short".utf8), lengthForm: 127), 1002),
        ("a 64-bit length of 65535", frame(opcode: 1, [], length: 0xFFFF, lengthForm: 127), 1002),
        ("a 64-bit length with its top bit set", frame(opcode: 1, [], length: Int.min, lengthForm: 127), 1002),
        ("a 64-bit length of all ones", frame(opcode: 1, [], length: -1, lengthForm: 127), 1002),
        ("RSV1 set", frame(opcode: 1, Array("x".utf8), rsv: 4), 1002),
        ("RSV2 set", frame(opcode: 1, Array("x".utf8), rsv: 2), 1002),
        ("RSV3 set", frame(opcode: 2, Array("x".utf8), rsv: 1), 1002),
        ("RSV1 on a ping", frame(opcode: 9, [], rsv: 4), 1002),
        ("opcode 3", frame(opcode: 3, Array("x".utf8)), 1002),
        ("opcode 7", frame(opcode: 7, []), 1002),
        ("opcode 0xB", frame(opcode: 0xB, []), 1002),
        ("opcode 0xF", frame(opcode: 0xF, []), 1002),
        ("an unmasked text frame", frame(opcode: 1, Array("unmasked".utf8), mask: nil), 1002),
        ("an unmasked ping", frame(opcode: 9, [], mask: nil), 1002),
        ("an unmasked close", frame(opcode: 8, [3, 232], mask: nil), 1002),
        ("a continuation without a message", frame(opcode: 0, Array("x".utf8)), 1002),
        ("an unfinished continuation without a message", frame(opcode: 0, Array("x".utf8), fin: false), 1002),
        (
            "a text frame inside a fragmented message",
            frame(opcode: 1, Array("a".utf8), fin: false) + frame(opcode: 1, Array("b".utf8)), 1002
        ),
        (
            "a binary frame inside a fragmented message",
            frame(opcode: 1, Array("a".utf8), fin: false) + frame(opcode: 2, Array("b".utf8), fin: false), 1002
        ),
        (
            "fragments adding up to more than the limit",
            frame(opcode: 2, [UInt8](repeating: 1, count: 4000), fin: false)
                + frame(opcode: 0, [UInt8](repeating: 2, count: 97)), 1009
        ),
        ("a close payload of one byte", frame(opcode: 8, [3]), 1002),
        ("close code 999", frame(opcode: 8, [3, 231]), 1002),
        ("close code 1004", frame(opcode: 8, [3, 236]), 1002),
        ("close code 1005", frame(opcode: 8, [3, 237]), 1002),
        ("close code 1006", frame(opcode: 8, [3, 238]), 1002),
        ("close code 1015", frame(opcode: 8, [3, 247]), 1002),
        ("close code 2999", frame(opcode: 8, [11, 183]), 1002),
        ("close code 5000", frame(opcode: 8, [19, 136]), 1002),
        ("a close reason that is not UTF-8", frame(opcode: 8, [3, 232, 0xC3, 0x28]), 1007),
    ]

    @Test(arguments: 0..<refusals.count)
    func framesBreakingTheRulesAreRefusedWithTheirCloseCode(_ index: Int) throws {
        let (name, bytes, code) = Self.refusals[index]
        // In one read, and a byte at a time: the same close either way.
        for chunk in [bytes.count + 64, 1] {
            let log = SessionLog()
            let channel = try channel(log)
            // A message after the bad frame is never read, nor a ping answered.
            let stream = bytes + Self.frame(opcode: 9, Array("p".utf8)) + Self.frame(opcode: 1, Array("late".utf8))
            for start in stride(from: 0, to: stream.count, by: chunk) where channel.isActive {
                try channel.writeInbound(ByteBuffer(bytes: stream[start..<min(start + chunk, stream.count)]))
            }
            #expect(Array(log.all.dropFirst()) == ["end \(code)"], "\(name), reads of \(chunk)")
            let frames = try Self.written(channel)
            #expect(frames.map(\.opcode) == [8], "\(name): one close, no pong, reads of \(chunk)")
            #expect(Self.closeCode(frames) == code, "\(name), reads of \(chunk)")
            #expect(!channel.isActive, "\(name): the connection is closed")
            _ = try? channel.finish()
        }
    }

    @Test func theLengthFormsAtTheirBoundariesAreRead() throws {
        // 125 in 7 bits, 126 and 65535 in 16 bits, 65536 in 64 bits: the shortest forms.
        let sizes = [0, 125, 126, 0xFFFF, 0x10000]
        let log = SessionLog()
        let channel = try channel(log, maximumMessageBytes: 0x10000)
        for size in sizes {
            try channel.writeInbound(ByteBuffer(bytes: Self.frame(opcode: 2, [UInt8](repeating: 7, count: size))))
        }
        #expect(Array(log.all.dropFirst()) == sizes.map { "binary \($0) first=\($0 == 0 ? 0 : 7)" })
        #expect(try Self.written(channel).isEmpty)
    }

    @Test func aPingIsAnsweredWithAPongCarryingItsPayload() throws {
        let log = SessionLog()
        let channel = try channel(log)
        let payloads: [[UInt8]] = [[], Array("hello".utf8), (0..<125).map { UInt8($0) }]
        for payload in payloads {
            try channel.writeInbound(ByteBuffer(bytes: Self.frame(opcode: 9, payload)))
        }
        // Also between the fragments of a message, and split across reads.
        let stream = Self.frame(opcode: 1, Array("a".utf8), fin: false) + Self.frame(opcode: 9, [1, 2, 3])
            + Self.frame(opcode: 0, Array("b".utf8))
        for byte in stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        let frames = try Self.written(channel)
        #expect(frames.map(\.opcode) == [10, 10, 10, 10])
        #expect(frames.map(\.payload) == payloads + [[1, 2, 3]])
        #expect(Array(log.all.dropFirst()) == ["text ab"])
        // A pong is ignored.
        try channel.writeInbound(ByteBuffer(bytes: Self.frame(opcode: 10, [9])))
        #expect(try Self.written(channel).isEmpty)
        #expect(channel.isActive)
    }

    @Test func aCloseIsAnsweredWithACloseAndNothingAfterItIsRead() throws {
        let cases: [([UInt8], UInt16)] = [([], 1000), ([3, 232], 1000), ([3, 233] + Array("bye".utf8), 1001),
            ([15, 160], 4000), ([3, 243], 1011)]
        for (payload, code) in cases {
            let log = SessionLog()
            let channel = try channel(log)
            try channel.writeInbound(
                ByteBuffer(
                    bytes: Self.frame(opcode: 1, Array("before".utf8)) + Self.frame(opcode: 8, payload)
                        + Self.frame(opcode: 9, []) + Self.frame(opcode: 1, Array("after".utf8))))
            #expect(Array(log.all.dropFirst()) == ["text before", "end 1000"])
            let frames = try Self.written(channel)
            #expect(frames.map(\.opcode) == [8], "close \(payload): one close back, no pong")
            #expect(Self.closeCode(frames) == code)
            #expect(!channel.isActive)
            _ = try? channel.finish()
        }
    }

    @Test func nothingIsWrittenAfterTheServersOwnClose() throws {
        // The session refuses "bad" (1007): a ping in the same read gets no pong after that close.
        let log = SessionLog()
        let channel = try channel(log)
        try channel.writeInbound(
            ByteBuffer(bytes: Self.frame(opcode: 1, Array("bad".utf8)) + Self.frame(opcode: 9, Array("p".utf8))))
        let frames = try Self.written(channel)
        #expect(frames.map(\.opcode) == [8])
        #expect(Self.closeCode(frames) == 1007)
        #expect(Array(log.all.dropFirst()) == ["text bad", "end 1007"])
    }
}
