import Foundation
import Testing

@testable import CallVaultAudio

/// G.711 must be bit-exact: a recording decoded here and by any other telephony stack must agree.
@Suite struct G711Tests {
    static let soxMissing = "sox is not installed (apt-get install sox); the G.711 reference comparison needs it"

    // MARK: Against sox, an independent implementation

    @Test(.enabled(if: ExternalTool.isInstalled("sox"), Comment(rawValue: soxMissing)))
    func muLawDecodeOfAll256CodesMatchesSox() throws {
        let reference = try Self.soxDecode(type: "ul")
        #expect(reference.count == 256)
        let ours = Self.decodeAll { (src, dst) throws(AudioError) in try G711.decodeMuLaw(src, into: dst) }
        #expect(ours == reference)
    }

    @Test(.enabled(if: ExternalTool.isInstalled("sox"), Comment(rawValue: soxMissing)))
    func aLawDecodeOfAll256CodesMatchesSox() throws {
        let reference = try Self.soxDecode(type: "al")
        #expect(reference.count == 256)
        let ours = Self.decodeAll { (src, dst) throws(AudioError) in try G711.decodeALaw(src, into: dst) }
        #expect(ours == reference)
    }

    /// sox rounds to 14 bits (adds 2, then shifts) where the ITU reference truncates; apart from
    /// that pre-rounding its quantizer must be ours, for every one of the 65536 inputs.
    @Test(.enabled(if: ExternalTool.isInstalled("sox"), Comment(rawValue: soxMissing)))
    func muLawEncodeOfAll65536ValuesMatchesSoxUpToItsRounding() throws {
        let reference = try Self.soxEncode(type: "ul")
        #expect(reference.count == 65_536)
        let mismatches = Self.mismatches(reference, G711.linearToMuLaw, roundingOffset: 2)
        #expect(mismatches.count == 0, "first mismatching input: \(mismatches.first ?? 0)")
        // And the difference is real and small: only inputs right at decision levels.
        let direct = Self.mismatches(reference, G711.linearToMuLaw, roundingOffset: 0)
        #expect(direct.count == 508)
    }

    /// sox rounds to 13 bits (adds 4, then shifts) where the ITU reference truncates.
    @Test(.enabled(if: ExternalTool.isInstalled("sox"), Comment(rawValue: soxMissing)))
    func aLawEncodeOfAll65536ValuesMatchesSoxUpToItsRounding() throws {
        let reference = try Self.soxEncode(type: "al")
        #expect(reference.count == 65_536)
        let mismatches = Self.mismatches(reference, G711.linearToALaw, roundingOffset: 4)
        #expect(mismatches.count == 0, "first mismatching input: \(mismatches.first ?? 0)")
        let direct = Self.mismatches(reference, G711.linearToALaw, roundingOffset: 0)
        #expect(direct.count == 1020)
    }

    /// The buffer encoders give exactly what the ITU reference algorithm (ported below from
    /// G.191's `g711.c`, segment-table search) gives, for all 65536 inputs.
    @Test func encodeOfAll65536ValuesMatchesTheITUReferenceAlgorithm() {
        let values = (0..<65_536).map { Int16(truncatingIfNeeded: $0 - 32_768) }
        let muLaw = Self.encodeAll { (src, dst) throws(AudioError) in try G711.encodeMuLaw(src, into: dst) }
        let aLaw = Self.encodeAll { (src, dst) throws(AudioError) in try G711.encodeALaw(src, into: dst) }
        var muLawMismatches = 0
        var aLawMismatches = 0
        for (i, value) in values.enumerated() {
            if muLaw[i] != ITUReference.linear2ulaw(value) { muLawMismatches += 1 }
            if aLaw[i] != ITUReference.linear2alaw(value) { aLawMismatches += 1 }
        }
        #expect(muLawMismatches == 0)
        #expect(aLawMismatches == 0)
    }

    // MARK: Against the standard's own figures (no tool needed)

    @Test func decodeMatchesG711TableEndpoints() {
        // μ-law (Table 2a): 0xFF and 0x7F are ±0, 0x80 / 0x00 are ±8031 × 4 (16-bit scale: ±32124).
        #expect(G711.muLawDecodeTable[0xFF] == 0)
        #expect(G711.muLawDecodeTable[0x7F] == 0)
        #expect(G711.muLawDecodeTable[0x80] == 32_124)
        #expect(G711.muLawDecodeTable[0x00] == -32_124)
        #expect(G711.muLawDecodeTable[0xFE] == 8)  // smallest step: 2 × 4
        // A-law (Table 1a): 0xD5 / 0x55 are ±1 × 8, 0xAA / 0x2A are ±4032 × 8.
        #expect(G711.aLawDecodeTable[0xD5] == 8)
        #expect(G711.aLawDecodeTable[0x55] == -8)
        #expect(G711.aLawDecodeTable[0xAA] == 32_256)
        #expect(G711.aLawDecodeTable[0x2A] == -32_256)
    }

    @Test func encodingADecodedCodeGivesTheCodeBack() {
        for code in 0...255 {
            let muLaw = G711.linearToMuLaw(G711.muLawDecodeTable[code])
            // 0x7F is μ-law's "negative zero"; it decodes to 0, which encodes as 0xFF.
            #expect(muLaw == (code == 0x7F ? 0xFF : UInt8(code)), "μ-law code \(code)")
            #expect(G711.linearToALaw(G711.aLawDecodeTable[code]) == UInt8(code), "A-law code \(code)")
        }
    }

    @Test func encodeIsMonotonicAndSaturates() {
        #expect(G711.linearToMuLaw(.max) == 0x80)
        #expect(G711.linearToMuLaw(.min) == 0x00)
        #expect(G711.linearToALaw(.max) == 0xAA)
        #expect(G711.linearToALaw(.min) == 0x2A)
        var previous = Int16.min
        for value in Int16.min...Int16.max {
            let decoded = G711.muLawDecodeTable[Int(G711.linearToMuLaw(value))]
            #expect(decoded >= previous || value == Int16.min, "μ-law not monotonic at \(value)")
            previous = decoded
            if value == Int16.max { break }
        }
    }

    // MARK: Lengths

    @Test func wrongLengthsThrowNamingBothCounts() {
        var bytes = [UInt8](repeating: 0xFF, count: 160)
        var samples = [Int16](repeating: 0, count: 159)
        bytes.withUnsafeMutableBytes { raw in
            samples.withUnsafeMutableBufferPointer { pcm in
                let src = UnsafeRawBufferPointer(raw)
                let pcmIn = UnsafeBufferPointer(pcm)
                Self.expectWrongLength(mentioning: [160, 159]) { () throws(AudioError) in
                    try G711.decodeMuLaw(src, into: pcm)
                }
                Self.expectWrongLength(mentioning: [160, 159]) { () throws(AudioError) in
                    try G711.decodeALaw(src, into: pcm)
                }
                Self.expectWrongLength(mentioning: [159, 160]) { () throws(AudioError) in
                    try G711.encodeMuLaw(pcmIn, into: raw)
                }
                Self.expectWrongLength(mentioning: [159, 160]) { () throws(AudioError) in
                    try G711.encodeALaw(pcmIn, into: raw)
                }
            }
        }
    }

    /// Expects `body` to throw `wrongFrameLength` with a message that names every count in `counts`.
    static func expectWrongLength(
        mentioning counts: [Int],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws(AudioError) -> Void
    ) {
        do {
            try body()
            Issue.record("a mismatched length was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .wrongFrameLength, sourceLocation: sourceLocation)
            for count in counts {
                #expect(error.message.contains("\(count)"), "message: \(error.message)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: Helpers

    typealias Decoder = (UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Int16>) throws(AudioError) -> Void
    typealias Encoder = (UnsafeBufferPointer<Int16>, UnsafeMutableRawBufferPointer) throws(AudioError) -> Void

    /// Inputs x (as Int) where `reference[x + 32768] != encode(min(x + roundingOffset, Int16.max))`.
    static func mismatches(_ reference: [UInt8], _ encode: (Int16) -> UInt8, roundingOffset: Int) -> [Int] {
        var result: [Int] = []
        for i in 0..<min(reference.count, 65_536) {
            let x = i - 32_768
            if reference[i] != encode(Int16(min(x + roundingOffset, Int(Int16.max)))) { result.append(x) }
        }
        return result
    }

    static func decodeAll(_ decode: Decoder) -> [Int16] {
        let codes = (0...255).map { UInt8($0) }
        var out = [Int16](repeating: 0x5555, count: 256)
        codes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                #expect(throws: Never.self) { try decode(src, dst) }
            }
        }
        return out
    }

    static func encodeAll(_ encode: Encoder) -> [UInt8] {
        let values = (0..<65_536).map { Int16(truncatingIfNeeded: $0 - 32_768) }
        var out = [UInt8](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                #expect(throws: Never.self) { try encode(src, dst) }
            }
        }
        return out
    }

    /// sox's decode of the 256 codes 0...255 (`-t ul|al` → s16).
    static func soxDecode(type: String) throws -> [Int16] {
        let dir = try ExternalTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("codes.raw")
        let output = dir.appendingPathComponent("pcm.raw")
        try Data((0...255).map { UInt8($0) }).write(to: input)
        try ExternalTool.run(
            "sox",
            ["-t", type, "-r", "8000", "-c", "1", input.path, "-t", "s16", "-r", "8000", "-c", "1", output.path]
        )
        return try ExternalTool.readS16(output)
    }

    /// sox's encode of every Int16 from -32768 to 32767; `-D` turns off sox's automatic dither.
    static func soxEncode(type: String) throws -> [UInt8] {
        let dir = try ExternalTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("pcm.raw")
        let output = dir.appendingPathComponent("codes.raw")
        try ExternalTool.writeS16((0..<65_536).map { Int16(truncatingIfNeeded: $0 - 32_768) }, to: input)
        try ExternalTool.run(
            "sox",
            ["-D", "-t", "s16", "-r", "8000", "-c", "1", input.path, "-t", type, "-r", "8000", "-c", "1", output.path]
        )
        return [UInt8](try Data(contentsOf: output))
    }
}
