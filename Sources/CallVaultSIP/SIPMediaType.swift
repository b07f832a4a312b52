/// A Content-Type value (`multipart/mixed;boundary="x"`): type and subtype lowercased for comparison,
/// parameters unquoted.
public struct SIPMediaType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    public var parameters: [SIPParameter]

    /// `type/subtype`, lowercased.
    public var essence: String { "\(type)/\(subtype)" }

    public static func parse(_ value: String) throws(SIPParseError) -> SIPMediaType {
        let pieces = try SIPSyntax.split(Substring(value), at: ";")
        guard let first = pieces.first, let slash = first.firstIndex(of: "/") else { throw .malformedContentType }
        let type = SIPSyntax.trim(first[..<slash]).lowercased()
        let subtype = SIPSyntax.trim(first[first.index(after: slash)...]).lowercased()
        guard !type.isEmpty, !subtype.isEmpty else { throw .malformedContentType }
        return SIPMediaType(type: type, subtype: subtype, parameters: try SIPSyntax.parameters(pieces.dropFirst()))
    }
}
