/// The parts of a `sip:`/`sips:` URI a recorder routes on (RFC 3261 §19.1): the user part names the
/// tenant (`INVITE sip:acme@recorder.example`), the host and port say where a request goes.
public struct SIPURI: Sendable, Equatable {
    public var scheme: String
    /// Percent-decoded; nil when the URI has no `user@`.
    public var user: String?
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]

    public static func parse(_ text: String) throws(SIPParseError) -> SIPURI {
        var s = SIPSyntax.trim(Substring(text))
        if s.first == "<", s.last == ">" { s = s.dropFirst().dropLast() }
        guard let colon = s.firstIndex(of: ":") else { throw .malformedURI }
        let scheme = s[..<colon].lowercased()
        guard scheme == "sip" || scheme == "sips" else { throw .malformedURI }
        var rest = s[s.index(after: colon)...]
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            var userPart = rest[..<at]
            if let semicolon = userPart.firstIndex(of: ";") { userPart = userPart[..<semicolon] }  // user parameters
            if let password = userPart.firstIndex(of: ":") { userPart = userPart[..<password] }
            guard !userPart.isEmpty, let decoded = Self.percentDecoded(userPart) else { throw .malformedURI }
            user = decoded
            rest = rest[rest.index(after: at)...]
        }
        let pieces = try SIPSyntax.split(rest, at: ";")
        guard let hostPort = pieces.first, !hostPort.isEmpty else { throw .malformedURI }
        var host = hostPort
        var port: Int?
        if host.first == "[" {
            guard let close = host.firstIndex(of: "]") else { throw .malformedURI }
            let after = host[host.index(after: close)...]
            host = host[...close]
            if !after.isEmpty {
                guard after.first == ":", let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw .malformedURI }
                port = p
            }
        } else if let c = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: c)...]), (1...65535).contains(p) else { throw .malformedURI }
            port = p
            host = host[..<c]
        }
        guard !host.isEmpty else { throw .malformedURI }
        return SIPURI(
            scheme: scheme, user: user, host: String(host).lowercased(), port: port,
            parameters: try SIPSyntax.parameters(pieces.dropFirst()))
    }

    /// `%41` → `A`; nil for a bad escape.
    static func percentDecoded(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let utf8 = s.utf8
        while i < utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "%") {
                let h1 = utf8.index(after: i)
                guard h1 < utf8.endIndex else { return nil }
                let h2 = utf8.index(after: h1)
                guard h2 < utf8.endIndex, let hi = hexValue(utf8[h1]), let lo = hexValue(utf8[h2]) else { return nil }
                bytes.append(hi << 4 | lo)
                i = utf8.index(after: h2)
            } else {
                bytes.append(b)
                i = utf8.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
