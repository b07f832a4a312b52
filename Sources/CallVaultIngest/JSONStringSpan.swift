/// Where a JSON string's contents lie in the received bytes (quotes excluded), already validated.
///
/// The media path never turns a JSON string into a `String`: it compares keys and reads values
/// through this span, unescaping on the fly with ``JSONStringReader``.
struct JSONStringSpan {
    /// Offset of the first content byte (just after the opening quote).
    var start: Int
    /// Offset of the closing quote.
    var end: Int
    /// Whether a backslash occurs (if not, the raw bytes are the contents).
    var hasEscapes: Bool

    /// The raw content bytes (escapes not undone).
    func raw(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether the unescaped contents equal the ASCII `literal`.
    func equals(_ literal: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
        let count = literal.utf8CodeUnitCount
        if !hasEscapes {
            guard end - start == count else { return false }
            let lit = literal.utf8Start
            for i in 0..<count where bytes[start &+ i] != lit[i] { return false }
            return true
        }
        var reader = JSONStringReader(bytes: bytes, span: self)
        let lit = literal.utf8Start
        for i in 0..<count {
            guard let scalar = reader.next(), scalar == UInt32(lit[i]) else { return false }
        }
        return reader.next() == nil
    }

    /// The contents as a short printable ASCII `String` for an error message, or nil if they are
    /// long, escaped or not printable (never echo arbitrary peer input into logs).
    func printable(in bytes: UnsafeRawBufferPointer, limit: Int = 32) -> String? {
        guard !hasEscapes, end - start <= limit else { return nil }
        let raw = raw(in: bytes)
        guard raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }
}
