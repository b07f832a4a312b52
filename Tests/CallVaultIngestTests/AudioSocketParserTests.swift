import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultAudio
@testable import CallVaultIngest

/// An owned copy of a parsed message, so messages from different runs can be compared.
enum OwnedAudioSocketMessage: Equatable {
    case uuid(UUID)
    case audio(sampleRateHz: Int, payload: [UInt8])
    case dtmf(DTMFDigit)
    case hangup
    case error(UInt8)

    init(_ message: AudioSocketMessage) {
        switch message {
        case .uuid(let id): self = .uuid(id)
        case .audio(let rate, let payload): self = .audio(sampleRateHz: rate, payload: Array(payload))
        case .dtmf(let digit): self = .dtmf(digit)
        case .hangup: self = .hangup
        case .error(let code): self = .error(code.rawValue)
        }
    }

    /// The message on the wire: kind, big-endian length, payload.
    var encoded: [UInt8] {
        let (kind, payload): (UInt8, [UInt8])
        switch self {
        case .uuid(let id): (kind, payload) = (0x01, withUnsafeBytes(of: id.uuid) { Array($0) })
        case .audio(let rate, let bytes):
            let kinds = [
                8000: 0x10, 12000: 0x11, 16000: 0x12, 24000: 0x13, 32000: 0x14, 44100: 0x15, 48000: 0x16,
                96000: 0x17, 192000: 0x18,
            ]
            (kind, payload) = (UInt8(kinds[rate]!), bytes)
        case .dtmf(let digit): (kind, payload) = (0x03, Array(String(digit.rawValue).utf8))
        case .hangup: (kind, payload) = (0x00, [])
        case .error(let code): (kind, payload) = (0xFF, [code])
        }
        return [kind, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }
}

@Suite("AudioSocket parser")
struct AudioSocketParserTests {
    /// Feeds `pieces` one after the other and collects every message (stops at the first error).
    func parse(_ pieces: [[UInt8]], parser: AudioSocketParser = AudioSocketParser()) throws -> [OwnedAudioSocketMessage]
    {
        var messages: [OwnedAudioSocketMessage] = []
        for piece in pieces {
            try piece.withUnsafeBytes { buffer in
                var input = buffer
                while let message = try parser.next(from: &input) {
                    messages.append(OwnedAudioSocketMessage(message))
                }
                #expect(input.isEmpty, "the parser must consume every byte it is given")
            }
        }
        try parser.finish()
        return messages
    }

    static let callID = UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!

    @Test("a typical call: UUID, slin audio at each rate, DTMF, error code, in one read")
    func wholeCall() throws {
        var random = SeededRandom(seed: 7)
        let messages: [OwnedAudioSocketMessage] =
            [.uuid(Self.callID)]
            + [8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000].map {
                .audio(sampleRateHz: $0, payload: random.bytes(320))
            } + [.dtmf(.five), .dtmf(.star), .error(0x01)]
        let stream = messages.flatMap(\.encoded)
        #expect(try parse([stream]) == messages)
        // Known error codes read back as their named constants.
        #expect(
            AudioSocketErrorCode(rawValue: 0x02) == .frameForwarding && AudioSocketErrorCode.memory.rawValue == 0x04
        )
    }

    @Test("a whole message in one read is a view into that read (no copy)")
    func zeroCopy() throws {
        let stream =
            OwnedAudioSocketMessage.uuid(Self.callID).encoded
            + OwnedAudioSocketMessage.audio(sampleRateHz: 8000, payload: [1, 2, 3, 4]).encoded
        let parser = AudioSocketParser()
        try stream.withUnsafeBytes { buffer in
            var input = buffer
            _ = try parser.next(from: &input)
            guard case .audio(_, let payload) = try parser.next(from: &input) else {
                Issue.record("expected audio")
                return
            }
            #expect(payload.baseAddress == buffer.baseAddress! + 19 + 3)
        }
    }

    /// Random valid calls (UUID, then audio/DTMF, sometimes a hangup or error at the end).
    static func randomCall(_ random: inout SeededRandom) -> [OwnedAudioSocketMessage] {
        var messages: [OwnedAudioSocketMessage] = [.uuid(UUID())]
        let rates = [8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000]
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            if Int.random(in: 0..<5, using: &random) == 0 {
                messages.append(.dtmf(DTMFDigit.allCases.randomElement(using: &random)!))
            } else {
                let samples = Int.random(in: 1...400, using: &random)
                messages.append(
                    .audio(sampleRateHz: rates.randomElement(using: &random)!, payload: random.bytes(2 * samples))
                )
            }
        }
        switch Int.random(in: 0..<3, using: &random) {
        case 0: messages.append(.hangup)
        case 1: messages.append(.error([0x01, 0x02, 0x04, 0x09].randomElement(using: &random)!))
        default: break
        }
        return messages
    }

    @Test("property: 500 random calls split at random byte boundaries parse exactly as unsplit")
    func splitsDoNotMatter() throws {
        var random = SeededRandom(seed: 0xA5)
        for round in 0..<500 {
            let messages = Self.randomCall(&random)
            let stream = messages.flatMap(\.encoded)
            // Cut points: sometimes every byte, otherwise a random handful.
            var cuts = Set<Int>()
            if round % 10 == 0 {
                cuts = Set(1..<stream.count)
            } else {
                for _ in 0..<Int.random(in: 1...20, using: &random) {
                    cuts.insert(Int.random(in: 0...stream.count, using: &random))
                }
            }
            var pieces: [[UInt8]] = []
            var start = 0
            for cut in cuts.sorted() + [stream.count] where cut >= start {
                pieces.append(Array(stream[start..<cut]))
                start = cut
            }
            let whole = try parse([stream])
            #expect(whole == messages, "round \(round)")
            #expect(try parse(pieces) == whole, "round \(round), \(pieces.count) pieces")
        }
    }

    @Test("each broken stream gets its own error, raised as soon as the header is in")
    func errors() {
        let uuid = OwnedAudioSocketMessage.uuid(Self.callID).encoded
        let cases: [(String, [UInt8], IngestError.Code, String)] = [
            ("audio before UUID", [0x10, 0, 2, 0, 0], .uuidNotFirst, "must start with its UUID"),
            ("DTMF before UUID", [0x03, 0, 1, 0x31], .uuidNotFirst, "must start with its UUID"),
            ("second UUID", uuid + uuid, .uuidNotFirst, "second UUID"),
            ("UUID of 15 bytes", [0x01, 0, 15], .wrongLength, "16 bytes, got 15"),
            ("zero-length audio", uuid + [0x10, 0, 0], .wrongLength, "audio message is empty"),
            ("odd audio", uuid + [0x12, 0, 3], .wrongLength, "odd length 3"),
            ("unknown kind", uuid + [0x42, 0, 0], .unknownKind, "kind 0x42"),
            ("kind 0x19", uuid + [0x19, 0, 2], .unknownKind, "kind 0x19"),
            (
                "lying length", uuid + [0x10, 0xFF, 0xFE], .messageTooLarge,
                "65534 bytes is longer than the limit of 16384"
            ),
            ("long DTMF", uuid + [0x03, 0, 2], .wrongLength, "DTMF message must be 1 byte"),
            ("DTMF not a key", uuid + [0x03, 0, 1, UInt8(ascii: "x")], .invalidValue, "DTMF byte 0x78"),
            ("hangup with payload", uuid + [0x00, 0, 1], .wrongLength, "hangup message must be empty"),
            ("error without code", uuid + [0xFF, 0, 0], .wrongLength, "error message must be 1 byte"),
            ("bytes after hangup", uuid + [0x00, 0, 0, 0x10], .messageAfterEnd, "after its hangup"),
            ("ends mid-header", uuid + [0x10, 0], .streamEndedMidMessage, "2 bytes of it"),
            ("ends mid-payload", uuid + [0x10, 0, 4, 1, 2], .streamEndedMidMessage, "5 bytes of it"),
        ]
        for (name, stream, code, fragment) in cases {
            let error = ingestError { _ = try parse([stream]) }
            #expect(error?.code == code, "\(name)")
            #expect(error?.message.contains(fragment) == true, "\(name): \(String(describing: error))")
        }
    }

    @Test("the header is judged before its payload arrives, and a failed parser stays failed")
    func earlyAndSticky() throws {
        let parser = AudioSocketParser(maxPayloadLength: 320)
        let uuid = OwnedAudioSocketMessage.uuid(Self.callID).encoded
        _ = try parse([uuid], parser: parser)
        let header: [UInt8] = [0x10, 0x01, 0x42]  // 322 bytes announced, none sent
        let first = ingestError {
            try header.withUnsafeBytes { buffer in
                var input = buffer
                _ = try parser.next(from: &input)
            }
        }
        #expect(first?.code == .messageTooLarge)
        let again = ingestError {
            try OwnedAudioSocketMessage.hangup.encoded.withUnsafeBytes { buffer in
                var input = buffer
                _ = try parser.next(from: &input)
            }
        }
        #expect(again == first)
    }

    @Test("random bytes after a UUID never crash the parser: messages or one typed error, every byte accounted for")
    func garbage() throws {
        var random = SeededRandom(seed: 0xDEAD)
        var outcomes: [IngestError.Code?: Int] = [:]
        for _ in 0..<5000 {
            let parser = AudioSocketParser(maxPayloadLength: 512)
            _ = try parse([OwnedAudioSocketMessage.uuid(UUID()).encoded], parser: parser)
            let bytes = random.bytes(Int.random(in: 0...64, using: &random))
            let error = ingestError { _ = try parse([bytes], parser: parser) }
            outcomes[error?.code, default: 0] += 1
        }
        // Random kinds are mostly unknown; the rest must hit the other rules too.
        #expect(outcomes[.unknownKind, default: 0] > 3000)
        #expect(outcomes.keys.count >= 4, "\(outcomes)")
    }
}
