/// The first line of a SIP message: a request (`INVITE sip:acme@host SIP/2.0`) or a response
/// (`SIP/2.0 200 OK`).
public enum SIPStartLine: Sendable, Equatable {
    case request(method: String, uri: String)
    case response(code: Int, reason: String)

    static func parse(_ line: Substring) throws(SIPParseError) -> SIPStartLine {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformedStartLine }
        if parts[0].hasPrefix("SIP/") {
            guard parts[0] == "SIP/2.0" else { throw .unsupportedVersion }
            guard parts[1].count == 3, parts[1].allSatisfy(\.isASCIIDigit), let code = Int(parts[1]),
                (100...699).contains(code)
            else { throw .malformedStatusCode }
            return .response(code: code, reason: String(parts[2]))
        }
        guard SIPSyntax.isToken(parts[0]), !parts[1].isEmpty else { throw .malformedStartLine }
        guard parts[2].hasPrefix("SIP/") else { throw .malformedStartLine }
        guard parts[2] == "SIP/2.0" else { throw .unsupportedVersion }
        return .request(method: String(parts[0]), uri: String(parts[1]))
    }
}
