/// Standard Base64 (RFC 4648 §4, with padding) over raw buffers, so that key bytes go from a `SecretKey`
/// into a request body, and from a response into a `SecretKey`, without passing through a Swift
/// `String`, `Array` or `Data` that could not be wiped.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The number of characters that encoding `byteCount` bytes gives.
    static func encodedCount(_ byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    /// Encodes `source` into the first ``encodedCount(_:)`` bytes of `target`.
    static func encode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) {
        precondition(target.count >= encodedCount(source.count))
        var out = 0
        var i = 0
        while i < source.count {
            let b0 = UInt32(source[i])
            let b1 = i + 1 < source.count ? UInt32(source[i + 1]) : 0
            let b2 = i + 2 < source.count ? UInt32(source[i + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            target[out] = alphabet[Int(group >> 18 & 63)]
            target[out + 1] = alphabet[Int(group >> 12 & 63)]
            target[out + 2] = i + 1 < source.count ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "=")
            target[out + 3] = i + 2 < source.count ? alphabet[Int(group & 63)] : UInt8(ascii: "=")
            out += 4
            i += 3
        }
    }

    /// Encodes `bytes` to a string (associated data, which is not secret).
    static func encode(_ bytes: [UInt8]) -> String {
        let count = encodedCount(bytes.count)
        return String(unsafeUninitializedCapacity: count) { target in
            bytes.withUnsafeBytes { encode($0, into: UnsafeMutableRawBufferPointer(target)) }
            return count
        }
    }

    /// The number of bytes that decoding `source` gives, or nil when it is not padded Base64
    /// (wrong length, a character outside the alphabet, padding anywhere but at the end).
    static func decodedCount(_ source: UnsafeRawBufferPointer) -> Int? {
        guard source.count % 4 == 0 else { return nil }
        var padding = 0
        for (index, c) in source.enumerated() {
            if c == UInt8(ascii: "=") {
                guard index >= source.count - 2 else { return nil }
                padding += 1
            } else {
                guard padding == 0, value(of: c) != nil else { return nil }
            }
        }
        return source.count / 4 * 3 - padding
    }

    /// Decodes `source` (checked by ``decodedCount(_:)``) into the first `decodedCount` bytes of `target`.
    /// - Returns: false when `source` is not padded Base64 or `target` is too small.
    static func decode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) -> Bool {
        guard let count = decodedCount(source), target.count >= count else { return false }
        var out = 0
        var i = 0
        while i < source.count {
            var group: UInt32 = 0
            for j in 0..<4 { group = group << 6 | UInt32(value(of: source[i + j]) ?? 0) }
            target[out] = UInt8(truncatingIfNeeded: group >> 16)
            if out + 1 < count { target[out + 1] = UInt8(truncatingIfNeeded: group >> 8) }
            if out + 2 < count { target[out + 2] = UInt8(truncatingIfNeeded: group) }
            out += 3
            i += 4
        }
        return true
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
