/// Reads a validated JSON string's contents one character at a time, undoing escapes.
///
/// Yields each raw byte as is (so a UTF-8 sequence comes out byte by byte) and each escape as the
/// Unicode scalar value it names (`\u00e9` → 0xE9; a surrogate pair → its two halves). Both are
/// ≥ 0x80 for anything outside ASCII, which is all the media path needs: its keys, numbers, tracks
/// and base64 are ASCII, so a non-ASCII value never matches and is never confused with one.
struct JSONStringReader {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer, span: JSONStringSpan) {
        self.bytes = bytes
        self.index = span.start
        self.end = span.end
    }

    /// The next character, or nil at the end. Relies on ``JSONScanner`` having validated the escapes.
    mutating func next() -> UInt32? {
        guard index < end else { return nil }
        let byte = bytes[index]
        guard byte == UInt8(ascii: "\\") else {
            index &+= 1
            return UInt32(byte)
        }
        let escaped = bytes[index &+ 1]
        index &+= 2
        switch escaped {
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"):
            var value: UInt32 = 0
            for _ in 0..<4 {
                value = value << 4 | UInt32(JSONScanner.hexValue(bytes[index]))
                index &+= 1
            }
            return value
        default: return UInt32(escaped)  // \" \\ \/
        }
    }
}
