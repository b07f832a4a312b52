import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

@Suite("Base64")
struct Base64Tests {
    /// Decodes with our decoder into a buffer of `capacity` bytes.
    func decode(_ text: String, capacity: Int = 1024) throws -> [UInt8] {
        try decode(bytes: Array(text.utf8), capacity: capacity)
    }

    func decode(bytes input: [UInt8], capacity: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: capacity)
        let count = try input.withUnsafeBytes { src in
            try output.withUnsafeMutableBytes { dst in try Base64.decode(src, into: dst) }
        }
        return Array(output[..<count])
    }

    /// Decodes one character at a time through the streaming decoder (the JSON-escape path).
    func decodeStreaming(_ text: String, capacity: Int = 1024) throws -> [UInt8] {
        try decodeStreaming(bytes: Array(text.utf8), capacity: capacity)
    }

    func decodeStreaming(bytes text: [UInt8], capacity: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: capacity)
        let count = try output.withUnsafeMutableBytes { dst in
            var decoder = Base64StreamDecoder()
            for byte in text { try decoder.feed(byte, into: dst) }
            return try decoder.finish()
        }
        return Array(output[..<count])
    }

    @Test("RFC 4648 §10 test vectors decode, whole and streamed")
    func rfcVectors() throws {
        let vectors = [
            "": "", "Zg==": "f", "Zm8=": "fo", "Zm9v": "foo", "Zm9vYg==": "foob", "Zm9vYmE=": "fooba",
            "Zm9vYmFy": "foobar",
        ]
        for (encoded, plain) in vectors {
            #expect(try decode(encoded) == Array(plain.utf8), "\(encoded)")
            #expect(try decodeStreaming(encoded) == Array(plain.utf8), "\(encoded)")
            let count = try Array(encoded.utf8).withUnsafeBytes { try Base64.decodedCount(of: $0) }
            #expect(count == plain.utf8.count)
        }
    }

    @Test("every byte string round-trips through Foundation's encoder and our decoder (2,000 random inputs)")
    func randomRoundTrips() throws {
        var random = SeededRandom(seed: 0xB64)
        for _ in 0..<2000 {
            let bytes = random.bytes(Int.random(in: 0...300, using: &random))
            let encoded = Data(bytes).base64EncodedString()
            #expect(try decode(encoded, capacity: bytes.count) == bytes)
            #expect(try decodeStreaming(encoded, capacity: bytes.count) == bytes)
        }
    }

    /// Property: on random mutations of valid encodings, we accept exactly the strict RFC 4648
    /// language (padded, `=` only at the end, zero unused bits), and wherever we accept, our bytes
    /// equal Foundation's. Foundation on Linux is more lenient (it accepts e.g. `HpJQ==`, `Zm9vYg`
    /// plus one `=`, and `=` inside the data); we refuse those on purpose, and the test counts them.
    @Test("on 20,000 mutated encodings we accept exactly strict RFC 4648 and then agree with Foundation")
    func agreesWithFoundationOnMutations() throws {
        var random = SeededRandom(seed: 0xF00D)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        let strays: [UInt8] = [0x20, 0x0A, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), 0x00, 0xC3, 0x7F]
        var accepted = 0
        var foundationOnly = 0
        for _ in 0..<20000 {
            var text = Array(Data(random.bytes(Int.random(in: 0...12, using: &random))).base64EncodedString().utf8)
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                let pick = Int.random(in: 0..<4, using: &random)
                let char = pick == 0 ? strays.randomElement(using: &random)! : alphabet.randomElement(using: &random)!
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !text.isEmpty: text[Int.random(in: 0..<text.count, using: &random)] = char
                case 1: text.insert(char, at: Int.random(in: 0...text.count, using: &random))
                default: if !text.isEmpty { text.remove(at: Int.random(in: 0..<text.count, using: &random)) }
                }
            }
            let foundation = Data(base64Encoded: Data(text)).map { [UInt8]($0) }
            let ours = try? decode(bytes: text, capacity: 64)
            let streamed = try? decodeStreaming(bytes: text, capacity: 64)
            #expect(
                streamed == ours,
                "the streaming decoder must agree on \(String(decoding: text, as: UTF8.self).debugDescription)"
            )
            let label = String(decoding: text, as: UTF8.self).debugDescription
            #expect((ours != nil) == Self.isStrictBase64(text), "input \(label)")
            if let ours {
                accepted += 1
                #expect(foundation == ours, "input \(label)")
            } else if foundation != nil {
                foundationOnly += 1
            }
        }
        // The mutations must exercise both outcomes, or the comparison proves little.
        #expect(accepted > 2000 && accepted < 18000, "accepted \(accepted)")
        #expect(foundationOnly > 0, "the lenient inputs Foundation takes should occur among the mutations")
    }

    /// An independent statement of the strict rules, to check the decoder against.
    static func isStrictBase64(_ text: [UInt8]) -> Bool {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        guard text.count % 4 == 0 else { return false }
        if text.isEmpty { return true }
        let pads = text.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard pads <= 2 else { return false }
        let data = text.dropLast(pads)
        guard data.allSatisfy({ alphabet.contains($0) }) else { return false }
        guard pads > 0, let value = alphabet.firstIndex(of: data.last!) else { return true }
        return value & (pads == 2 ? 0x0F : 0x03) == 0
    }

    @Test("each kind of bad input gets its own error naming the offset or the rule")
    func errors() {
        func code(_ text: String, capacity: Int = 64) -> (IngestError.Code, String)? {
            ingestError { _ = try decode(text, capacity: capacity) }.map { ($0.code, $0.message) }
        }
        #expect(code("Zm9")?.1.contains("not a multiple of 4") == true)
        #expect(code("Zm9v!A==")?.1.contains("outside the alphabet at offset 4") == true)
        #expect(code("Zm==Zm9v")?.1.contains("padding '=' at offset 2") == true)
        #expect(code("Z===")?.1.contains("where data is needed") == true)
        #expect(code("Zm9=")?.1.contains("non-zero bits") == true)
        #expect(code("Zm9v Zm9")?.0 == .invalidBase64)
        #expect(code("Zm9vYmFy", capacity: 5)?.0 == .payloadTooLarge)
        #expect(code("Zm9vYmFy", capacity: 5)?.1.contains("decodes to 6 bytes, more than the 5-byte buffer") == true)
        #expect(code("Zm9vYmFy", capacity: 6) == nil)
    }

    @Test("the streaming decoder refuses overflow and data after padding")
    func streamingErrors() {
        #expect(throws: IngestError(.payloadTooLarge, "base64 payload decodes to more than the 2-byte buffer")) {
            _ = try decodeStreaming("Zm9v", capacity: 2)
        }
        #expect(throws: IngestError(.invalidBase64, "base64 continues after its padding at offset 4")) {
            _ = try decodeStreaming("Zg==Zg==")
        }
        #expect(throws: IngestError(.invalidBase64, "base64 length 3 is not a multiple of 4 (padding is required)")) {
            _ = try decodeStreaming("Zm9")
        }
    }
}
