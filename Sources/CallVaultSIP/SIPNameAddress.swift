/// A name-addr or addr-spec value (From, To, Contact; RFC 3261 §20.10): the display name, the URI and
/// the header parameters after it. Without `<…>` the parameters after the URI belong to the header
/// (so `Contact: sip:src@host;+sip.src` carries `+sip.src` as a Contact parameter, as SBCs mean it).
public struct SIPNameAddress: Sendable, Equatable {
    public var displayName: String?
    public var uri: String
    public var parameters: [SIPParameter]

    public static func parse(_ value: String) throws(SIPParseError) -> SIPNameAddress {
        let text = SIPSyntax.trim(Substring(value))
        if let open = text.firstIndex(of: "<") {
            // The display name may itself contain '<' only inside quotes; find '<' outside quotes.
            var quotes = SIPSyntax.QuoteState()
            var angle: Substring.Index?
            var i = text.startIndex
            while i < text.endIndex {
                if quotes.isOutsideQuotes(text[i]) && text[i] == "<" {
                    angle = i
                    break
                }
                i = text.index(after: i)
            }
            if quotes.inQuotes { throw .unterminatedQuotedString }
            let lt = angle ?? open
            guard let gt = text[lt...].firstIndex(of: ">") else { throw .malformedNameAddress }
            let name = SIPSyntax.trim(text[..<lt])
            let uri = String(text[text.index(after: lt)..<gt])
            let rest = try SIPSyntax.split(text[text.index(after: gt)...], at: ";")
            return SIPNameAddress(
                displayName: name.isEmpty ? nil : try SIPSyntax.unquote(name),
                uri: uri,
                parameters: try SIPSyntax.parameters(rest[...])
            )
        }
        let pieces = try SIPSyntax.split(text, at: ";")
        guard let uri = pieces.first else { throw .malformedNameAddress }
        return SIPNameAddress(
            displayName: nil,
            uri: String(uri),
            parameters: try SIPSyntax.parameters(pieces.dropFirst())
        )
    }

    /// The user@host of the URI, lowercased, without scheme, URI parameters or headers: the form AORs
    /// are compared in.
    public static func addressOfRecord(_ uri: String) -> String {
        var s = Substring(uri.lowercased())
        s = SIPSyntax.trim(s)
        if s.first == "<", s.last == ">" { s = s.dropFirst().dropLast() }
        for scheme in ["sips:", "sip:", "tel:"] where s.hasPrefix(scheme) {
            s = s.dropFirst(scheme.count)
            break
        }
        if let cut = s.firstIndex(where: { $0 == ";" || $0 == "?" || $0 == ">" }) { s = s[..<cut] }
        return String(s)
    }
}
