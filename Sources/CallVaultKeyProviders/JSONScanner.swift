/// Finds one string value in a JSON document without copying it: the Transit `decrypt` answer carries a
/// key in Base64 (`{"data":{"plaintext":"…"}}`), and a JSON decoder would leave it in a Swift `String`
/// that nobody can wipe. Strict enough to reject what is not JSON; depth-limited so junk cannot recurse
/// without bound.
struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private static let maximumDepth = 32

    /// The byte range of the raw (unescaped-as-written) content of the string at `path` — a chain of
    /// object member names from the top-level object — or nil when the document is not JSON, the path
    /// is missing, or the value is not a string.
    static func stringRange(at path: [String], in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var scanner = JSONScanner(bytes: bytes)
        let found = scanner.find(path[...], depth: 0)
        guard let found else { return nil }
        // The rest of the document must be well formed too: junk after a match is still junk.
        guard scanner.skipRestOfDocument() else { return nil }
        return found
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Scans the object at the current position for `path`; on a match, keeps scanning to the end of
    /// this object so that the whole document is checked.
    private mutating func find(_ path: ArraySlice<String>, depth: Int) -> Range<Int>? {
        guard depth < Self.maximumDepth, consume(UInt8(ascii: "{")) else { return nil }
        var found: Range<Int>?
        if consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = readString(), consume(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            let matches = found == nil && bytes[key].elementsEqual(path.first!.utf8)
            if matches && path.count == 1 {
                guard let value = readString() else { return nil }
                found = value
            } else if matches {
                guard let inner = find(path.dropFirst(), depth: depth + 1) else { return nil }
                found = inner
            } else {
                guard skipValue(depth: depth + 1) else { return nil }
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { return nil }
        return found
    }

    private mutating func skipRestOfDocument() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    private mutating func consume(_ c: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == c else { return false }
        index += 1
        return true
    }

    /// Reads a string; returns the range of its content between the quotes.
    private mutating func readString() -> Range<Int>? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return start..<(index - 1)
            case UInt8(ascii: "\\"):
                index += 2
            case 0..<0x20:
                return nil
            default:
                index += 1
            }
        }
        return nil
    }

    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < Self.maximumDepth else { return false }
        skipWhitespace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return readString() != nil
        case UInt8(ascii: "{"):
            index += 1
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                guard readString() != nil, consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            index += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        default:
            // A number or a literal: the run of characters that can make one up.
            let start = index
            while index < bytes.count, Self.isScalarCharacter(bytes[index]) { index += 1 }
            let word = bytes[start..<index]
            if word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) || word.elementsEqual("null".utf8) {
                return true
            }
            return !word.isEmpty && word.allSatisfy { Self.isNumberCharacter($0) }
        }
    }

    private static func isScalarCharacter(_ c: UInt8) -> Bool {
        isNumberCharacter(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
    }

    private static func isNumberCharacter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    }
}
