/// The header fields of a SIP message or a body part, in order, with compact names (RFC 3261 §7.3.3
/// and later RFCs) expanded so that `v:` and `Via:` are found alike, and lookups case-insensitive.
public struct SIPHeaders: Sendable, Equatable {
    /// One field: `name` as canonicalised (compact forms expanded), `value` unfolded and trimmed.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        /// Lowercased canonical name, the lookup key.
        var key: String
    }

    public private(set) var fields: [Field] = []

    public init() {}

    /// Compact form → full name. Only the forms registered with IANA; an unknown one-letter name stays as is.
    static let compactForms: [String: String] = [
        "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
        "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
        "l": "Content-Length", "m": "Contact", "n": "Identity-Info", "o": "Event", "r": "Refer-To",
        "s": "Subject", "t": "To", "u": "Allow-Events", "v": "Via", "x": "Session-Expires", "y": "Identity",
    ]

    public mutating func append(name: String, value: String) {
        let full = name.count == 1 ? (Self.compactForms[name.lowercased()] ?? name) : name
        fields.append(Field(name: full, value: value, key: full.lowercased()))
    }

    /// Every value of `name`, one per header line, in order.
    public func values(_ name: String) -> [String] {
        let key = (name.count == 1 ? (Self.compactForms[name.lowercased()] ?? name) : name).lowercased()
        return fields.filter { $0.key == key }.map(\.value)
    }

    /// The first value of `name`.
    public func first(_ name: String) -> String? { values(name).first }

    /// The comma-separated elements of every `name` line (for list headers: Via, Contact, Require,
    /// Supported, …), split outside quotes and `<…>`.
    public func list(_ name: String) throws(SIPParseError) -> [String] {
        var out: [String] = []
        for value in values(name) {
            for piece in try SIPSyntax.split(Substring(value), at: ",") { out.append(String(piece)) }
        }
        return out
    }

    /// Whether an option tag list (Require, Supported, Proxy-Require) names `tag`, case-insensitive.
    public func hasOptionTag(_ tag: String, in name: String) -> Bool {
        guard let items = try? list(name) else { return false }
        return items.contains { $0.lowercased() == tag.lowercased() }
    }

    /// The Content-Length value: nil when absent; refused when not a number or when lines disagree.
    public func contentLength() throws(SIPParseError) -> Int? {
        var found: Int?
        for value in values("Content-Length") {
            let digits = SIPSyntax.trim(Substring(value))
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCIIDigit), let n = Int(digits) else {
                throw .malformedContentLength
            }
            if let found, found != n { throw .conflictingContentLength }
            found = n
        }
        return found
    }

    /// Parses header lines (no start line), unfolding continuation lines. `firstLineNumber` numbers
    /// the lines in errors.
    static func parse(lines: ArraySlice<Substring>, firstLineNumber: Int, limits: SIPLimits) throws(SIPParseError)
        -> SIPHeaders
    {
        var headers = SIPHeaders()
        var pendingName: Substring?
        var pendingValue = ""
        var lineNumber = firstLineNumber
        func flush() throws(SIPParseError) {
            guard let name = pendingName else { return }
            guard headers.fields.count < limits.maxHeaders else { throw .tooManyHeaders(limit: limits.maxHeaders) }
            headers.append(name: String(name), value: String(SIPSyntax.trim(Substring(pendingValue))))
            pendingName = nil
        }
        for line in lines {
            defer { lineNumber += 1 }
            if let first = line.first, SIPSyntax.isWhitespace(first) {
                // Obsolete line folding: the line continues the previous field's value.
                guard pendingName != nil else { throw .foldedLineWithoutHeader(line: lineNumber) }
                pendingValue += " " + SIPSyntax.trim(line)
                guard pendingValue.utf8.count <= limits.maxLineBytes else {
                    throw .lineTooLong(line: lineNumber, limit: limits.maxLineBytes)
                }
                continue
            }
            try flush()
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(line: lineNumber) }
            let name = SIPSyntax.trim(line[..<colon])
            guard SIPSyntax.isToken(name) else { throw .invalidHeaderName(line: lineNumber) }
            pendingName = name
            pendingValue = String(line[line.index(after: colon)...])
        }
        try flush()
        return headers
    }
}

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" && isASCII }
}
