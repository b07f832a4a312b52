/// Base64 decoding one character at a time, for input that is not one contiguous run of bytes.
///
/// A JSON string may spell a base64 character as an escape (`\/`, `\u0041`); the media parser
/// unescapes on the fly and feeds characters here, so even escaped payloads decode without a copy.
/// ``Base64/decode(_:into:)`` uses it for the final (possibly padded) quad. Same rules as there.
struct Base64StreamDecoder {
    /// Up to four 6-bit values of the current quad.
    var quad: UInt32 = 0
    /// Characters of the current quad seen so far, padding included.
    var count = 0
    /// `=` characters seen (1 or 2 in the final quad).
    var pads = 0
    /// A padded quad ended the data: nothing may follow.
    var ended = false
    /// Offset of the next character, for error messages.
    var position: Int
    /// Bytes written to the output so far.
    var written: Int

    init(position: Int = 0, written: Int = 0) {
        self.position = position
        self.written = written
    }

    /// Takes one character (a byte, or a Unicode scalar value from an escape) of the encoding.
    mutating func feed(_ character: UInt32, into output: UnsafeMutableRawBufferPointer) throws(IngestError) {
        defer { position &+= 1 }
        if ended {
            throw IngestError(.invalidBase64, "base64 continues after its padding at offset \(position)")
        }
        if character == UInt32(UInt8(ascii: "=")) {
            guard count >= 2 else {
                throw IngestError(.invalidBase64, "base64 padding '=' at offset \(position) where data is needed")
            }
            pads &+= 1
            count &+= 1
            if count == 4 { try completePadded(into: output) }
            return
        }
        guard pads == 0 else {
            throw IngestError(.invalidBase64, "base64 continues after its padding at offset \(position)")
        }
        let value = character < 256 ? Base64.decodeTable[Int(character)] : 0xFF
        guard value != 0xFF else {
            throw IngestError(.invalidBase64, "base64 has a character outside the alphabet at offset \(position)")
        }
        quad = quad << 6 | UInt32(value)
        count &+= 1
        if count == 4 {
            try write(3, into: output)
            quad = 0
            count = 0
        }
    }

    /// Convenience for raw bytes.
    mutating func feed(_ byte: UInt8, into output: UnsafeMutableRawBufferPointer) throws(IngestError) {
        try feed(UInt32(byte), into: output)
    }

    /// Checks the encoding ended on a quad boundary and returns the bytes written.
    mutating func finish() throws(IngestError) -> Int {
        guard count == 0 else {
            throw IngestError(.invalidBase64, "base64 length \(position) is not a multiple of 4 (padding is required)")
        }
        return written
    }

    /// Writes the 1 or 2 bytes of a padded final quad, refusing non-zero unused bits.
    private mutating func completePadded(into output: UnsafeMutableRawBufferPointer) throws(IngestError) {
        let dataBits = (4 - pads) * 6
        let unusedBits = dataBits % 8
        guard quad & ((1 << UInt32(unusedBits)) - 1) == 0 else {
            throw IngestError(.invalidBase64, "base64 final quad has non-zero bits before its padding")
        }
        quad <<= UInt32(pads * 6)
        try write(3 - pads, into: output)
        count = 0
        ended = true
    }

    /// Writes the top `n` bytes of the 24-bit quad.
    private mutating func write(_ n: Int, into output: UnsafeMutableRawBufferPointer) throws(IngestError) {
        guard written &+ n <= output.count else {
            throw IngestError(.payloadTooLarge, "base64 payload decodes to more than the \(output.count)-byte buffer")
        }
        output[written] = UInt8(truncatingIfNeeded: quad >> 16)
        if n > 1 { output[written &+ 1] = UInt8(truncatingIfNeeded: quad >> 8) }
        if n > 2 { output[written &+ 2] = UInt8(truncatingIfNeeded: quad) }
        written &+= n
    }
}
