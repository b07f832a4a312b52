/// ITU-T G.711 companding (μ-law and A-law) between 8-bit codes and 16-bit linear PCM.
///
/// Telephony delivers almost every call as G.711 (Twilio Media Streams send μ-law, European
/// trunks A-law), so these run on every frame of the hot path. They work on caller-provided
/// buffers and never allocate: decoding is a lookup in a 256-entry table built once, encoding
/// is the segment search of the ITU-T reference (Sun's `g711.c`, ITU-T G.191 `g711.c`).
///
/// Bit-exactness: decoding matches ITU-T G.711 Tables 1a/2a scaled to 16 bits (μ-law: 14-bit
/// value × 4, A-law: 13-bit value × 8); encoding truncates the 16-bit input to 14 (μ-law) or
/// 13 (A-law) bits first, as the ITU reference does. `G711Tests` checks every code and every
/// Int16 value against sox. Note that sox *rounds* to 14/13 bits before its (otherwise identical)
/// quantizer, so it differs from the ITU reference for the 2 (μ-law) or 4 (A-law) inputs just
/// below each decision level — 508 and 1020 of the 65536 inputs; the tests prove that
/// `sox(x) == ours(x + 2)` (μ-law) and `sox(x) == ours(x + 4)` (A-law) for every x, and that we
/// equal a direct port of the reference's segment-table search.
public enum G711 {
    /// 16-bit linear value of every μ-law code (index = code), built once from G.711 Table 2a.
    public static let muLawDecodeTable: [Int16] = (0...255).map { muLawToLinear(UInt8($0)) }

    /// 16-bit linear value of every A-law code (index = code), built once from G.711 Table 1a.
    public static let aLawDecodeTable: [Int16] = (0...255).map { aLawToLinear(UInt8($0)) }

    // MARK: Buffers

    /// Decodes μ-law bytes into 16-bit PCM, one sample per byte.
    ///
    /// - Throws: `wrongFrameLength` (naming both counts) if `dst.count != src.count`.
    @inlinable
    public static func decodeMuLaw(
        _ src: UnsafeRawBufferPointer,
        into dst: UnsafeMutableBufferPointer<Int16>
    ) throws(AudioError) {
        try checkLengths(expected: src.count, actual: dst.count, what: "μ-law decode", unit: "sample")
        decode(src, into: dst, table: muLawDecodeTable)
    }

    /// Decodes A-law bytes into 16-bit PCM, one sample per byte.
    ///
    /// - Throws: `wrongFrameLength` (naming both counts) if `dst.count != src.count`.
    @inlinable
    public static func decodeALaw(
        _ src: UnsafeRawBufferPointer,
        into dst: UnsafeMutableBufferPointer<Int16>
    ) throws(AudioError) {
        try checkLengths(expected: src.count, actual: dst.count, what: "A-law decode", unit: "sample")
        decode(src, into: dst, table: aLawDecodeTable)
    }

    /// Encodes 16-bit PCM into μ-law bytes, one byte per sample.
    ///
    /// - Throws: `wrongFrameLength` (naming both counts) if `dst.count != src.count`.
    @inlinable
    public static func encodeMuLaw(
        _ src: UnsafeBufferPointer<Int16>,
        into dst: UnsafeMutableRawBufferPointer
    ) throws(AudioError) {
        try checkLengths(expected: src.count, actual: dst.count, what: "μ-law encode", unit: "byte")
        for i in 0..<src.count {
            dst[i] = linearToMuLaw(src[i])
        }
    }

    /// Encodes 16-bit PCM into A-law bytes, one byte per sample.
    ///
    /// - Throws: `wrongFrameLength` (naming both counts) if `dst.count != src.count`.
    @inlinable
    public static func encodeALaw(
        _ src: UnsafeBufferPointer<Int16>,
        into dst: UnsafeMutableRawBufferPointer
    ) throws(AudioError) {
        try checkLengths(expected: src.count, actual: dst.count, what: "A-law encode", unit: "byte")
        for i in 0..<src.count {
            dst[i] = linearToALaw(src[i])
        }
    }

    // MARK: Single values

    /// Encodes one sample to μ-law, as ITU-T G.191 `linear2ulaw` / Sun `g711.c` do.
    ///
    /// The sample is truncated to 14 bits (arithmetic shift), clipped to ±8159, biased by 33,
    /// and the segment (exponent) is the position of its highest set bit; the code is stored
    /// inverted, as G.711 transmits it.
    @inlinable
    public static func linearToMuLaw(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 2
        let mask: Int32
        if value < 0 {
            value = -value
            mask = 0x7F
        } else {
            mask = 0xFF
        }
        if value > 8159 { value = 8159 }
        value += 33  // the bias, so every segment starts at a power of two: 33...8192
        // Segment = index of the highest set bit minus 5 (values 33...63 are segment 0).
        let segment = Int32(31 - UInt32(value).leadingZeroBitCount) - 5
        if segment >= 8 { return UInt8(truncatingIfNeeded: 0x7F ^ mask) }  // only 8192: full scale
        let code = (segment << 4) | ((value >> (segment + 1)) & 0x0F)
        return UInt8(truncatingIfNeeded: code ^ mask)
    }

    /// Encodes one sample to A-law, as ITU-T G.191 `linear2alaw` / Sun `g711.c` do.
    ///
    /// The sample is truncated to 13 bits, negative values are one's-complemented, the segment
    /// is found from the highest set bit, and even bits are inverted (XOR 0x55) as G.711 sends.
    @inlinable
    public static func linearToALaw(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 3
        let mask: Int32
        if value >= 0 {
            mask = 0xD5
        } else {
            mask = 0x55
            value = -value - 1
        }
        // value is 0...4095 here, so the segment is at most 7.
        let highBit = value == 0 ? 0 : Int32(31 - UInt32(value).leadingZeroBitCount)
        let segment = max(0, highBit - 4)
        var code = segment << 4
        if segment < 2 {
            code |= (value >> 1) & 0x0F
        } else {
            code |= (value >> segment) & 0x0F
        }
        return UInt8(truncatingIfNeeded: code ^ mask)
    }

    /// Expands one μ-law code to 16-bit linear (ITU-T G.191 `ulaw2linear`).
    public static func muLawToLinear(_ code: UInt8) -> Int16 {
        let u = Int32(~code)
        var t = ((u & 0x0F) << 3) + 0x84
        t <<= (u & 0x70) >> 4
        return Int16(u & 0x80 != 0 ? 0x84 - t : t - 0x84)
    }

    /// Expands one A-law code to 16-bit linear (ITU-T G.191 `alaw2linear`).
    public static func aLawToLinear(_ code: UInt8) -> Int16 {
        let a = Int32(code ^ 0x55)
        var t = (a & 0x0F) << 4
        let segment = (a & 0x70) >> 4
        switch segment {
        case 0: t += 8
        case 1: t += 0x108
        default:
            t += 0x108
            t <<= segment - 1
        }
        return Int16(a & 0x80 != 0 ? t : -t)
    }

    // MARK: Helpers

    @inlinable
    static func decode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Int16>, table: [Int16]) {
        table.withUnsafeBufferPointer { table in
            for i in 0..<src.count {
                dst[i] = table[Int(src[i])]
            }
        }
    }

    /// Throws unless the output holds exactly one value per input value (G.711 is one byte per sample).
    @inlinable
    static func checkLengths(
        expected: Int,
        actual: Int,
        what: StaticString,
        unit: StaticString
    ) throws(AudioError) {
        guard expected == actual else {
            throw AudioError(
                .wrongFrameLength,
                "\(what): the output must hold one \(unit) per input value: "
                    + "expected \(expected) \(unit)s, got \(actual)"
            )
        }
    }
}
