/// The small lexical rules of RFC 3261 §25 that every header parser needs: whitespace, quoted strings
/// with backslash escapes, and splitting at a separator that is not inside quotes or `<…>` (a comma in
/// a display name or a URI must not split a Contact list).
enum SIPSyntax {
    static func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" }

    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s = s.dropLast() }
        return s
    }

    /// RFC 3261 token characters, for header names and parameter names.
    static func isToken(_ s: Substring) -> Bool {
        !s.isEmpty
            && s.unicodeScalars.allSatisfy { u in
                (u.value >= 0x30 && u.value <= 0x39) || (u.value >= 0x41 && u.value <= 0x5A)
                    || (u.value >= 0x61 && u.value <= 0x7A) || "-.!%*_+`'~".unicodeScalars.contains(u)
            }
    }

    /// Where a left-to-right scan is with respect to quoted strings (`"…"` with backslash escapes): the
    /// one rule both ``split(_:at:)`` and name-addr parsing need to skip quoted text.
    struct QuoteState {
        private(set) var inQuotes = false
        private var escaped = false

        /// Takes `c`; returns true when `c` is outside any quoted string (and is not a quote itself).
        mutating func isOutsideQuotes(_ c: Character) -> Bool {
            if inQuotes {
                if escaped {
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inQuotes = false
                }
                return false
            }
            if c == "\"" {
                inQuotes = true
                return false
            }
            return true
        }
    }

    /// Splits at `separator` outside quoted strings and angle brackets; pieces are trimmed, empty ones dropped.
    static func split(_ s: Substring, at separator: Character) throws(SIPParseError) -> [Substring] {
        var pieces: [Substring] = []
        var quotes = QuoteState()
        var angle = 0
        var start = s.startIndex
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if !quotes.isOutsideQuotes(c) {
                // inside a quoted string, or its opening or closing quote
            } else if c == "<" {
                angle += 1
            } else if c == ">" {
                angle = max(0, angle - 1)
            } else if c == separator && angle == 0 {
                let piece = trim(s[start..<i])
                if !piece.isEmpty { pieces.append(piece) }
                start = s.index(after: i)
            }
            i = s.index(after: i)
        }
        if quotes.inQuotes { throw .unterminatedQuotedString }
        let piece = trim(s[start..<s.endIndex])
        if !piece.isEmpty { pieces.append(piece) }
        return pieces
    }

    /// The content of a quoted string (`"a \"b\""` → `a "b"`), or the trimmed text when it is not quoted.
    static func unquote(_ s: Substring) throws(SIPParseError) -> String {
        let s = trim(s)
        guard s.first == "\"" else { return String(s) }
        var out = ""
        var escaped = false
        for c in s.dropFirst() {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return out
            } else {
                out.append(c)
            }
        }
        throw .unterminatedQuotedString
    }

    /// `;name=value;flag` parameters: names lowercased, values unquoted, a flag's value nil.
    static func parameters(_ pieces: ArraySlice<Substring>) throws(SIPParseError) -> [SIPParameter] {
        var out: [SIPParameter] = []
        for piece in pieces {
            if let eq = piece.firstIndex(of: "=") {
                let name = trim(piece[..<eq]).lowercased()
                out.append(SIPParameter(name: name, value: try unquote(piece[piece.index(after: eq)...])))
            } else {
                out.append(SIPParameter(name: trim(piece).lowercased(), value: nil))
            }
        }
        return out
    }
}

/// One `;name[=value]` parameter of a header value.
public struct SIPParameter: Sendable, Equatable {
    /// Lowercased.
    public var name: String
    /// Unquoted; nil for a flag such as `;rport` or `;+sip.src`.
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

extension [SIPParameter] {
    /// The parameter called `name` (case-insensitive), if present.
    public func parameter(_ name: String) -> SIPParameter? {
        let name = name.lowercased()
        return first { $0.name == name }
    }
}
