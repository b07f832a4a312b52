/// A small XML reader for recording metadata, written here rather than borrowed: Foundation's
/// `XMLParser` needs FoundationXML on Linux and is built on libxml2, which knows DTDs. This one knows
/// no DTD at all — a DOCTYPE or ENTITY declaration is refused, as is any entity other than the five
/// predefined ones and numeric character references — so entity bombs and external entities cannot
/// happen. Size, depth and node count are bounded. Processing instructions and comments are skipped,
/// CDATA is text.
public enum BoundedXMLReader {
    public static func parse(_ bytes: [UInt8], limits: SIPLimits = .default) throws(SIPParseError) -> MetadataXMLElement
    {
        guard bytes.count <= limits.maxXMLBytes else { throw .xmlTooLarge(limit: limits.maxXMLBytes) }
        var reader = Reader(bytes: bytes, limits: limits)
        return try reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        let limits: SIPLimits
        var pos = 0
        var nodes = 0
        /// Open elements, innermost last, with the qualified name each must close with.
        var stack: [(element: MetadataXMLElement, qualifiedName: String)] = []
        /// Namespace bindings per open element (prefix "" is the default namespace).
        var scopes: [[String: String]] = []

        init(bytes: [UInt8], limits: SIPLimits) {
            self.bytes = bytes
            self.limits = limits
        }

        func fail(_ reason: String) -> SIPParseError { .xmlMalformed(offset: pos, reason: reason) }

        func starts(with literal: String) -> Bool {
            var i = pos
            for b in literal.utf8 {
                guard i < bytes.count, bytes[i] == b else { return false }
                i += 1
            }
            return true
        }

        /// Moves past the next `literal`, or fails.
        mutating func skip(past literal: String, what: String) throws(SIPParseError) -> Range<Int> {
            let pattern = Array(literal.utf8)
            var i = pos
            while i + pattern.count <= bytes.count {
                if bytes[i] == pattern[0], Array(bytes[i..<(i + pattern.count)]) == pattern {
                    let range = pos..<i
                    pos = i + pattern.count
                    return range
                }
                i += 1
            }
            throw fail("unterminated \(what)")
        }

        static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }

        mutating func skipSpace() {
            while pos < bytes.count, Self.isSpace(bytes[pos]) { pos += 1 }
        }

        mutating func name() throws(SIPParseError) -> String {
            let start = pos
            while pos < bytes.count {
                let b = bytes[pos]
                if Self.isSpace(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: ">") || b == UInt8(ascii: "=")
                    || b == UInt8(ascii: "<") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'")
                    || b == UInt8(ascii: "&")
                {
                    break
                }
                pos += 1
            }
            guard pos > start else { throw fail("expected a name") }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }

        /// Decodes character data, resolving the five predefined entities and character references.
        func decode(_ range: Range<Int>) throws(SIPParseError) -> String {
            guard bytes[range].contains(UInt8(ascii: "&")) else { return String(decoding: bytes[range], as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(range.count)
            var i = range.lowerBound
            while i < range.upperBound {
                let b = bytes[i]
                guard b == UInt8(ascii: "&") else {
                    out.append(b)
                    i += 1
                    continue
                }
                var end = i + 1
                while end < range.upperBound, end - i <= 12, bytes[end] != UInt8(ascii: ";") { end += 1 }
                guard end < range.upperBound, bytes[end] == UInt8(ascii: ";") else { throw .xmlUnknownEntity }
                let entity = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
                switch entity {
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "amp": out.append(UInt8(ascii: "&"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    guard entity.hasPrefix("#") else { throw .xmlUnknownEntity }
                    let digits = entity.dropFirst()
                    let value: UInt32? =
                        digits.first == "x" || digits.first == "X"
                        ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                    guard let value, value != 0, let scalar = Unicode.Scalar(value) else { throw .xmlUnknownEntity }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
                i = end + 1
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func count() throws(SIPParseError) {
            nodes += 1
            guard nodes <= limits.maxXMLNodes else { throw .xmlTooManyElements(limit: limits.maxXMLNodes) }
        }

        mutating func document() throws(SIPParseError) -> MetadataXMLElement {
            if starts(with: "\u{FEFF}") { pos += 3 }
            var root: MetadataXMLElement?
            while pos < bytes.count {
                if bytes[pos] != UInt8(ascii: "<") {
                    let start = pos
                    while pos < bytes.count, bytes[pos] != UInt8(ascii: "<") { pos += 1 }
                    if stack.isEmpty {
                        guard bytes[start..<pos].allSatisfy(Self.isSpace) else {
                            throw fail("text outside the root element")
                        }
                    } else {
                        stack[stack.count - 1].element.text += try decode(start..<pos)
                    }
                    continue
                }
                if starts(with: "<?") {
                    pos += 2
                    _ = try skip(past: "?>", what: "processing instruction")
                } else if starts(with: "<!--") {
                    pos += 4
                    _ = try skip(past: "-->", what: "comment")
                } else if starts(with: "<![CDATA[") {
                    guard !stack.isEmpty else { throw fail("CDATA outside the root element") }
                    pos += 9
                    let range = try skip(past: "]]>", what: "CDATA section")
                    stack[stack.count - 1].element.text += String(decoding: bytes[range], as: UTF8.self)
                } else if starts(with: "<!") {
                    // DOCTYPE, ENTITY, ELEMENT, ATTLIST: no DTD is ever read.
                    throw .xmlDoctypeRefused
                } else if starts(with: "</") {
                    pos += 2
                    let closing = try name()
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: ">") else {
                        throw fail("expected '>' after a closing tag")
                    }
                    pos += 1
                    guard let open = stack.popLast() else { throw fail("closing tag without an open element") }
                    guard open.qualifiedName == closing else {
                        throw fail("closing tag does not match the open element")
                    }
                    scopes.removeLast()
                    if stack.isEmpty {
                        root = open.element
                    } else {
                        stack[stack.count - 1].element.children.append(open.element)
                    }
                } else {
                    guard root == nil else { throw fail("a second root element") }
                    pos += 1
                    try openElement(root: &root)
                }
            }
            guard stack.isEmpty, let root else {
                throw fail(root == nil && stack.isEmpty ? "no root element" : "unclosed element")
            }
            return root
        }

        mutating func openElement(root: inout MetadataXMLElement?) throws(SIPParseError) {
            try count()
            guard stack.count < limits.maxXMLDepth else { throw .xmlTooDeep(limit: limits.maxXMLDepth) }
            let qualified = try name()
            var attributes: [MetadataXMLElement.Attribute] = []
            var selfClosing = false
            while true {
                skipSpace()
                guard pos < bytes.count else { throw fail("unterminated start tag") }
                if bytes[pos] == UInt8(ascii: ">") {
                    pos += 1
                    break
                }
                if starts(with: "/>") {
                    pos += 2
                    selfClosing = true
                    break
                }
                let attributeName = try name()
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "=") else { throw fail("attribute without '='") }
                pos += 1
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") || bytes[pos] == UInt8(ascii: "'") else {
                    throw fail("attribute value not quoted")
                }
                let quote = bytes[pos]
                pos += 1
                let start = pos
                while pos < bytes.count, bytes[pos] != quote {
                    guard bytes[pos] != UInt8(ascii: "<") else { throw fail("'<' in an attribute value") }
                    pos += 1
                }
                guard pos < bytes.count else { throw fail("unterminated attribute value") }
                let value = try decode(start..<pos)
                pos += 1
                try count()
                guard !attributes.contains(where: { $0.name == attributeName }) else {
                    throw fail("duplicate attribute")
                }
                attributes.append(.init(name: attributeName, value: value))
            }
            var scope: [String: String] = [:]
            for attribute in attributes {
                if attribute.name == "xmlns" {
                    scope[""] = attribute.value
                } else if attribute.name.hasPrefix("xmlns:") {
                    scope[String(attribute.name.dropFirst(6))] = attribute.value
                }
            }
            let pieces = qualified.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let prefix = pieces.count == 2 ? String(pieces[0]) : nil
            let localName = String(pieces.last ?? "")
            guard !localName.isEmpty else { throw fail("empty local name") }
            var namespace: String? = scope[prefix ?? ""]
            if namespace == nil {
                for outer in scopes.reversed() {
                    if let bound = outer[prefix ?? ""] {
                        namespace = bound
                        break
                    }
                }
            }
            let element = MetadataXMLElement(
                prefix: prefix,
                localName: localName,
                namespace: namespace,
                attributes: attributes
            )
            if selfClosing {
                if stack.isEmpty { root = element } else { stack[stack.count - 1].element.children.append(element) }
            } else {
                stack.append((element, qualified))
                scopes.append(scope)
            }
        }
    }
}
