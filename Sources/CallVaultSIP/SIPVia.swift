/// One Via value (RFC 3261 §20.42): where to send the response. `rport` (RFC 3581) is kept apart
/// because a NATed SBC needs the response sent to the source port, not the one in the Via.
public struct SIPVia: Sendable, Equatable {
    /// `UDP`, `TCP`, `TLS`, … uppercased.
    public var transport: String
    public var host: String
    public var port: Int?
    /// The transaction id (`z9hG4bK…` for RFC 3261 peers).
    public var branch: String?
    /// `rport` is present; `rportValue` is its value when one is filled in.
    public var hasRport: Bool
    public var rportValue: Int?
    public var received: String?
    public var parameters: [SIPParameter]

    public static func parse(_ value: String) throws(SIPParseError) -> SIPVia {
        let pieces = try SIPSyntax.split(Substring(value), at: ";")
        guard let sentBy = pieces.first else { throw .malformedVia }
        // "SIP / 2.0 / UDP host:port" — whitespace around the slashes is legal: drop it, keep one space
        // between the protocol and the host.
        var normalized = ""
        var pendingSpace = false
        for c in sentBy {
            if c == " " || c == "\t" {
                pendingSpace = true
                continue
            }
            if pendingSpace, c != "/", normalized.last != "/" { normalized.append(" ") }
            pendingSpace = false
            normalized.append(c)
        }
        let halves = normalized.split(separator: " ")
        guard halves.count == 2 else { throw .malformedVia }
        let protocolPart = halves[0]
        let hostPart = halves[1]
        let proto = protocolPart.split(separator: "/")
        guard proto.count == 3, proto[0].uppercased() == "SIP", proto[1] == "2.0", !proto[2].isEmpty else {
            throw .malformedVia
        }
        var host = hostPart
        var port: Int?
        if host.first == "[" {
            guard let close = host.firstIndex(of: "]") else { throw .malformedVia }
            let rest = host[host.index(after: close)...]
            host = host[...close]
            if !rest.isEmpty {
                guard rest.first == ":", let p = Int(rest.dropFirst()), (1...65535).contains(p) else {
                    throw .malformedVia
                }
                port = p
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else { throw .malformedVia }
            port = p
            host = host[..<colon]
        }
        let parameters = try SIPSyntax.parameters(pieces.dropFirst())
        let rport = parameters.parameter("rport")
        return SIPVia(
            transport: proto[2].uppercased(),
            host: String(host),
            port: port,
            branch: parameters.parameter("branch")?.value,
            hasRport: rport != nil,
            rportValue: rport?.value.flatMap { Int($0) },
            received: parameters.parameter("received")?.value,
            parameters: parameters
        )
    }
}
