/// A forward-only, allocation-free JSON scanner over a received text frame.
///
/// It validates as it goes (RFC 8259 structure, string escapes, literals, number characters) and
/// lets the caller walk an object's members, reading the few it needs and skipping the rest.
/// Skipping recurses at most ``maxDepth`` levels, so a hostile `[[[[…` cannot exhaust the stack.
/// Not checked: that raw bytes ≥ 0x80 form valid UTF-8 (the WebSocket layer checks text frames).
struct JSONScanner {
    static let maxDepth = 32

    let bytes: UnsafeRawBufferPointer
    var index: Int

    init(_ bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    // MARK: Structure

    /// Skips whitespace and returns the next byte without consuming it.
    mutating func peek() throws(IngestError) -> UInt8 {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index &+= 1
            default: return bytes[index]
            }
        }
        throw IngestError(.truncated, "JSON message ends early at offset \(index)")
    }

    /// Consumes `byte` (after whitespace) or throws naming what was expected.
    mutating func expect(_ byte: UInt8, _ what: StaticString) throws(IngestError) {
        let found = try peek()
        guard found == byte else {
            throw IngestError(.malformedJSON, "JSON expected \(what) at offset \(index)")
        }
        index &+= 1
    }

    /// Consumes the `{` that opens an object; `field` names it for a wrong-type error.
    mutating func beginObject(_ field: StaticString) throws(IngestError) {
        guard try peek() == UInt8(ascii: "{") else {
            throw IngestError(.wrongType, "\(field) must be a JSON object")
        }
        index &+= 1
    }

    /// Moves to the next member of the object being walked and returns its key, leaving the
    /// scanner at the member's value; returns nil after consuming the closing `}`.
    /// - Parameter first: true for the first call after ``beginObject(_:)``.
    mutating func nextKey(first: inout Bool) throws(IngestError) -> JSONStringSpan? {
        var byte = try peek()
        if byte == UInt8(ascii: "}") {
            index &+= 1
            return nil
        }
        if !first {
            guard byte == UInt8(ascii: ",") else {
                throw IngestError(.malformedJSON, "JSON expected ',' or '}' at offset \(index)")
            }
            index &+= 1
            byte = try peek()
        }
        first = false
        guard byte == UInt8(ascii: "\"") else {
            throw IngestError(.malformedJSON, "JSON expected a quoted key at offset \(index)")
        }
        let key = try scanString()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return key
    }

    /// Throws unless only whitespace follows the top-level value.
    mutating func expectEnd() throws(IngestError) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index &+= 1
            default: throw IngestError(.malformedJSON, "JSON has trailing bytes at offset \(index)")
            }
        }
    }

    // MARK: Values

    /// Reads a string value; `field` names it for a wrong-type error.
    mutating func stringValue(_ field: StaticString) throws(IngestError) -> JSONStringSpan {
        guard try peek() == UInt8(ascii: "\"") else {
            throw IngestError(.wrongType, "\(field) must be a JSON string")
        }
        return try scanString()
    }

    /// Reads the string that starts at the current `"`, validating escapes and control bytes.
    mutating func scanString() throws(IngestError) -> JSONStringSpan {
        index &+= 1  // opening quote
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            // Most of a media message is one long base64 string: skip eight plain bytes at a time.
            while index &+ 8 <= bytes.count,
                !JSONScanner.needsAttention(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            {
                index &+= 8
            }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index &+= 1
                return JSONStringSpan(start: start, end: index &- 1, hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                guard index &+ 1 < bytes.count else {
                    index = bytes.count
                    continue
                }
                switch bytes[index &+ 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index &+= 2
                case UInt8(ascii: "u"):
                    guard index &+ 5 < bytes.count else {
                        index = bytes.count
                        continue
                    }
                    for i in 2...5 where JSONScanner.hexValue(bytes[index &+ i]) == 0xFF {
                        throw IngestError(.malformedJSON, "JSON \\u escape needs 4 hex digits at offset \(index)")
                    }
                    index &+= 6
                default:
                    throw IngestError(.malformedJSON, "JSON string has an unknown escape at offset \(index)")
                }
            case 0..<0x20:
                throw IngestError(.malformedJSON, "JSON string has an unescaped control byte at offset \(index)")
            default:
                index &+= 1
            }
        }
        throw IngestError(.truncated, "JSON message ends inside a string that starts at offset \(start - 1)")
    }

    /// Whether any of eight bytes ends a string or needs a look: `"`, `\` or a control byte (< 0x20).
    /// Word-at-a-time tests (each exact: no byte matches, no bit set); byte order does not matter.
    @inline(__always)
    static func needsAttention(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroInQuote = (quote &- ones) & ~quote
        let zeroInBackslash = (backslash &- ones) & ~backslash
        let below0x20 = (word &- ones &* 0x20) & ~word
        return (zeroInQuote | zeroInBackslash | below0x20) & highs != 0
    }

    /// Skips one value of any type, validating it.
    mutating func skipValue(depth: Int = 0) throws(IngestError) {
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maxDepth else { throw tooDeep() }
            index &+= 1
            var first = true
            while try nextKey(first: &first) != nil {
                try skipValue(depth: depth &+ 1)
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maxDepth else { throw tooDeep() }
            index &+= 1
            if try peek() == UInt8(ascii: "]") {
                index &+= 1
                return
            }
            while true {
                try skipValue(depth: depth &+ 1)
                let next = try peek()
                index &+= 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else {
                    throw IngestError(.malformedJSON, "JSON expected ',' or ']' at offset \(index &- 1)")
                }
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try skipNumber()
        default:
            throw IngestError(.malformedJSON, "JSON expected a value at offset \(index)")
        }
    }

    /// Skips a number, checking RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    private mutating func skipNumber() throws(IngestError) {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index &+= 1 }
        if index < bytes.count && bytes[index] == UInt8(ascii: "0") {
            index &+= 1
        } else {
            try digits(from: start)
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index &+= 1
            try digits(from: start)
        }
        if index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            index &+= 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index &+= 1
            }
            try digits(from: start)
        }
    }

    /// Skips one or more digits of the number that starts at `start`.
    private mutating func digits(from start: Int) throws(IngestError) {
        let first = index
        while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index &+= 1 }
        guard index > first else {
            if index == bytes.count {
                throw IngestError(.truncated, "JSON message ends inside a number at offset \(start)")
            }
            throw IngestError(.malformedJSON, "JSON number at offset \(start) is malformed")
        }
    }

    private mutating func literal(_ word: StaticString) throws(IngestError) {
        let count = word.utf8CodeUnitCount
        let start = word.utf8Start
        for i in 0..<count {
            guard index &+ i < bytes.count else {
                throw IngestError(.truncated, "JSON message ends inside a literal at offset \(index)")
            }
            guard bytes[index &+ i] == start[i] else {
                throw IngestError(.malformedJSON, "JSON has an unknown literal at offset \(index)")
            }
        }
        index &+= count
    }

    private func tooDeep() -> IngestError {
        IngestError(.nestingTooDeep, "JSON nests deeper than \(JSONScanner.maxDepth) levels at offset \(index)")
    }

    /// The value of a hex digit, or 0xFF.
    static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
        default: return 0xFF
        }
    }
}
