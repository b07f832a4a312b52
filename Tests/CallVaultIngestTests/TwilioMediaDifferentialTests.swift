import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

/// Differential tests: the allocation-free media parser against Foundation's JSON and base64
/// decoders on randomly generated and randomly damaged messages.
@Suite("Twilio media parser vs Foundation")
struct TwilioMediaDifferentialTests {
    static let jsonErrors: Set<IngestError.Code> = [.truncated, .malformedJSON, .nestingTooDeep]

    /// A random valid media message: random payload, member order, extra members and whitespace.
    static func randomMessage(_ random: inout SeededRandom) -> [UInt8] {
        let payload = Data(random.bytes(Int.random(in: 0...200, using: &random))).base64EncodedString()
        let space = [" ", "", "\n", "\t"]
        func ws() -> String { space.randomElement(using: &random)! }
        var media = [
            #""track":"\#(Bool.random(using: &random) ? "inbound" : "outbound")""#,
            #""chunk":"\#(Int.random(in: 1...99999, using: &random))""#,
            #""timestamp":"\#(Int.random(in: 0...9_999_999, using: &random))""#,
            #""payload":"\#(payload)""#,
        ]
        if Bool.random(using: &random) { media.append(#""extra":[1,-0.5e+3,{"k":null}]"#) }
        media.shuffle(using: &random)
        var top = [
            #""event":"media""#, #""sequenceNumber":"\#(Int.random(in: 1...9999, using: &random))""#,
            #""media":{\#(media.map { ws() + $0 + ws() }.joined(separator: ","))}"#, #""streamSid":"MZ1""#,
        ]
        top.shuffle(using: &random)
        return Array(("{" + top.map { ws() + $0 + ws() }.joined(separator: ",") + "}").utf8)
    }

    @Test(
        "property: 20,000 damaged messages — whatever we accept, Foundation reads the same; invalid JSON is always refused"
    )
    func differential() throws {
        var random = SeededRandom(seed: 0x7111)
        let alphabet = Array(#"{}[]",:\ 0123456789abcdefnrtuAE=+/-.eE"#.utf8) + [0x0A, 0x01]
        var accepted = 0
        var refusedJSON = 0
        var refusedOther = 0
        var trailingCommas = 0
        var payload = [UInt8](repeating: 0, count: 256)
        for round in 0..<20000 {
            var text = Self.randomMessage(&random)
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let char = alphabet.randomElement(using: &random)!
                let at = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text[at] = char
                case 1: text.insert(char, at: at)
                default: text.remove(at: at)
                }
            }
            let label = "round \(round): \(String(decoding: text, as: UTF8.self))"
            let foundation = (try? JSONSerialization.jsonObject(with: Data(text))) as? [String: Any]
            var result: Result<(TwilioMediaMessage, [UInt8]), IngestError>
            do {
                let message = try text.withUnsafeBytes { src in
                    try payload.withUnsafeMutableBytes { dst in try TwilioMediaMessage.parse(src, payloadInto: dst) }
                }
                result = .success((message, Array(payload[..<message.payloadCount])))
            } catch let error as IngestError {
                result = .failure(error)
            }
            switch result {
            case .success(let (message, bytes)):
                accepted += 1
                let json = try #require(foundation, "we accepted what Foundation refuses: \(label)")
                let media = try #require(json["media"] as? [String: Any], "\(label)")
                #expect(json["event"] as? String == "media", "\(label)")
                #expect(media["track"] as? String == message.track.rawValue, "\(label)")
                #expect((media["chunk"] as? String).flatMap { UInt64($0) } == message.chunk, "\(label)")
                #expect((media["timestamp"] as? String).flatMap { Int64($0) } == message.timestampMs, "\(label)")
                #expect(
                    (json["sequenceNumber"] as? String).flatMap { UInt64($0) } == message.sequenceNumber,
                    "\(label)"
                )
                let base64 = try #require(media["payload"] as? String, "\(label)")
                #expect(Data(base64Encoded: base64).map { [UInt8]($0) } == bytes, "\(label)")
            case .failure(let error):
                if foundation == nil {
                    refusedJSON += 1
                } else {
                    // Valid JSON we refuse must be refused for a protocol reason, not as bad JSON —
                    // except a trailing comma (`{"a":1,}`), which RFC 8259 forbids and Foundation
                    // on Linux tolerates; we refuse it on purpose.
                    refusedOther += 1
                    if Self.jsonErrors.contains(error.code) {
                        trailingCommas += 1
                        #expect(Self.hasTrailingComma(text), "valid JSON called \(error): \(label)")
                    }
                }
            }
        }
        #expect(
            accepted > 2000 && refusedJSON > 2000 && refusedOther > 200,
            "accepted \(accepted), invalid JSON \(refusedJSON), refused valid JSON \(refusedOther)"
        )
        #expect(trailingCommas < refusedOther / 10, "trailing commas \(trailingCommas)")
    }

    /// Whether a `,` is followed (after whitespace) by `}` or `]`.
    static func hasTrailingComma(_ text: [UInt8]) -> Bool {
        for (index, byte) in text.enumerated() where byte == UInt8(ascii: ",") {
            let next = text[(index + 1)...].first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if next == UInt8(ascii: "}") || next == UInt8(ascii: "]") { return true }
        }
        return false
    }

    @Test("random bytes never crash the parser and always give a typed error")
    func garbage() {
        var random = SeededRandom(seed: 0xBAD)
        var payload = [UInt8](repeating: 0, count: 160)
        for _ in 0..<20000 {
            let text = random.bytes(Int.random(in: 0...64, using: &random))
            let error = ingestError {
                _ = try text.withUnsafeBytes { src in
                    try payload.withUnsafeMutableBytes { dst in try TwilioMediaMessage.parse(src, payloadInto: dst) }
                }
            }
            #expect(error != nil)
        }
    }
}
