/// One `a=name[:value]` line, kept in order so nothing an SRC sends is lost to the parser.
public struct SDPAttribute: Sendable, Equatable {
    public var name: String
    public var value: String?

    static func parse(_ text: Substring) -> SDPAttribute {
        if let colon = text.firstIndex(of: ":") {
            return SDPAttribute(name: String(text[..<colon]), value: String(text[text.index(after: colon)...]))
        }
        return SDPAttribute(name: String(text), value: nil)
    }
}
