/// Strict RFC 4648 base64 (standard alphabet, padded) decoded straight into a caller's buffer.
///
/// Twilio sends every 20 ms of μ-law as base64 inside a JSON string, so this runs on every media
/// message: it never allocates, checks the output fits before writing past it, and refuses what
/// Foundation's `Data(base64Encoded:)` refuses (wrong length, misplaced `=`, characters outside the
/// alphabet, whitespace). It is also stricter in one place RFC 4648 §3.5 allows: the unused low
/// bits before padding must be zero, so every byte string has exactly one accepted encoding.
public enum Base64 {
    /// 6-bit value of every byte (index = byte), 0xFF for bytes outside the alphabet.
    @usableFromInline static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    /// The number of bytes `encoded` decodes to, from its length and padding alone.
    ///
    /// - Throws: `invalidBase64` if the length is not a multiple of 4.
    public static func decodedCount(of encoded: UnsafeRawBufferPointer) throws(IngestError) -> Int {
        let n = encoded.count
        guard n & 3 == 0 else {
            throw IngestError(.invalidBase64, "base64 length \(n) is not a multiple of 4 (padding is required)")
        }
        if n == 0 { return 0 }
        var pads = 0
        if encoded[n - 1] == UInt8(ascii: "=") { pads += 1 }
        if encoded[n - 2] == UInt8(ascii: "=") { pads += 1 }
        return n / 4 * 3 - pads
    }

    /// Decodes `encoded` into the start of `output` and returns how many bytes it wrote.
    ///
    /// - Throws: `invalidBase64` naming the offset of the first bad character (or the length
    ///   rule broken); `payloadTooLarge` if the result is longer than `output`, before writing.
    public static func decode(
        _ encoded: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(IngestError) -> Int {
        let needed = try decodedCount(of: encoded)
        guard needed <= output.count else {
            throw IngestError(
                .payloadTooLarge,
                "base64 payload decodes to \(needed) bytes, more than the \(output.count)-byte buffer"
            )
        }
        if encoded.isEmpty { return 0 }
        let quads = encoded.count / 4
        var written = 0
        try decodeTable.withUnsafeBufferPointer { table throws(IngestError) in
            // Every quad but the last has no padding: decode four characters at a time.
            for q in 0..<(quads - 1) {
                let i = q &* 4
                let a = table[Int(encoded[i])]
                let b = table[Int(encoded[i &+ 1])]
                let c = table[Int(encoded[i &+ 2])]
                let d = table[Int(encoded[i &+ 3])]
                guard (a | b | c | d) & 0xC0 == 0 else {
                    throw badCharacter(encoded, from: i)
                }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[written] = UInt8(truncatingIfNeeded: v >> 16)
                output[written &+ 1] = UInt8(truncatingIfNeeded: v >> 8)
                output[written &+ 2] = UInt8(truncatingIfNeeded: v)
                written &+= 3
            }
        }
        var decoder = Base64StreamDecoder(position: (quads - 1) * 4, written: written)
        for i in ((quads - 1) * 4)..<encoded.count {
            try decoder.feed(encoded[i], into: output)
        }
        return try decoder.finish()
    }

    /// The error for the first character at or after `start` that is outside the alphabet.
    static func badCharacter(_ encoded: UnsafeRawBufferPointer, from start: Int) -> IngestError {
        var i = start
        while i < encoded.count && decodeTable[Int(encoded[i])] != 0xFF { i += 1 }
        if i < encoded.count && encoded[i] == UInt8(ascii: "=") {
            return IngestError(.invalidBase64, "base64 padding '=' at offset \(i) before the end")
        }
        return IngestError(.invalidBase64, "base64 has a byte outside the alphabet at offset \(i)")
    }
}
