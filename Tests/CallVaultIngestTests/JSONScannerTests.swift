import CallVaultTestSupport
import Testing

@testable import CallVaultIngest

/// The string scan skips eight plain bytes at a time: it must stop at exactly the bytes the byte-wise
/// rules name, wherever they fall against the eight-byte steps.
@Suite struct JSONScannerTests {
    /// The byte-wise rule the word test stands for.
    static func needsAttentionByteWise(_ word: UInt64) -> Bool {
        (0..<8).contains { shift in
            let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
            return byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
        }
    }

    @Test func theWordTestAgreesWithTheByteRuleOnEveryByteValueInEveryPosition() {
        let plain = UInt64(0x4141_4141_4141_4141)  // "AAAAAAAA"
        #expect(!JSONScanner.needsAttention(plain))
        for position in 0..<8 {
            for value in 0...255 {
                let shift = UInt64(8 * position)
                let word = (plain & ~(0xFF << shift)) | (UInt64(value) << shift)
                #expect(
                    JSONScanner.needsAttention(word) == Self.needsAttentionByteWise(word),
                    "byte \(value) at \(position)")
            }
        }
        // Mixed words (UTF-8 lead and continuation bytes beside the special ones), seeded and repeatable.
        var generator = SeededRandom(seed: 20_261_206)
        var disagreements: [UInt64] = []
        for _ in 0..<200_000 {
            let word = generator.next()
            if JSONScanner.needsAttention(word) != Self.needsAttentionByteWise(word) { disagreements.append(word) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5).map { String($0, radix: 16) })")
    }

    @Test func aStringEndsAtItsQuoteAndEscapesAndControlBytesAreFoundAtEveryOffset() throws {
        for length in 0..<40 {
            let body = String(repeating: "x", count: length)
            try Self.scan("\"\(body)\" ") { span in
                #expect(span.start == 1 && span.end == 1 + length && !span.hasEscapes)
            }
            for offset in 0...length {
                var escaped = Array(body.utf8)
                escaped.insert(contentsOf: Array(#"\""#.utf8), at: offset)
                try Self.scan("\"" + String(decoding: escaped, as: UTF8.self) + "\"") { span in
                    #expect(span.end == 1 + length + 2 && span.hasEscapes, "escape at \(offset) of \(length)")
                }
                var control = Array(body.utf8)
                control.insert(0x0A, at: offset)
                #expect(throws: IngestError.self, "raw newline at \(offset) of \(length)") {
                    try Self.scan("\"" + String(decoding: control, as: UTF8.self) + "\"") { _ in }
                }
            }
            #expect(throws: IngestError.self, "unterminated, length \(length)") {
                try Self.scan("\"" + body) { _ in }
            }
        }
        // Multi-byte UTF-8 passes through whole.
        try Self.scan("\"héllo wörld, ñandú — 電話\"") { span in #expect(!span.hasEscapes && span.start == 1) }
    }

    static func scan(_ text: String, _ check: (JSONStringSpan) -> Void) throws(IngestError) {
        let bytes = Array(text.utf8)
        var failure: IngestError?
        bytes.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            do throws(IngestError) { check(try scanner.scanString()) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
