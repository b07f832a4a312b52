/// One `m=` line and the lines under it: one recorded stream of a SIPREC offer.
public struct SDPMedia: Sendable, Equatable {
    /// `audio`, `video`, `application`, …
    public var kind: String
    /// 0 for a rejected or disabled stream.
    public var port: Int
    /// The `/<count>` after the port, when given.
    public var portCount: Int?
    /// `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `UDP/TLS/RTP/SAVPF`, … as written.
    public var proto: String
    /// The format list: payload type numbers for RTP.
    public var formats: [String]
    public var connection: SDPConnection?
    public var rtpmaps: [SDPRTPMap] = []
    /// `a=fmtp:<pt> <params>`: the parameters per payload type, as written.
    public var fmtp: [Int: String] = [:]
    /// `a=label` (RFC 4574): the key into the recording metadata.
    public var label: String?
    /// The stream's own direction attribute; nil when it has none (see ``direction(sessionDefault:)``).
    public var explicitDirection: SDPDirection?
    public var crypto: [SDPCrypto] = []
    /// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
    public var rtcpPort: Int?
    public var rtcpAddress: String?
    public var rtcpMux = false
    /// Every `a=` line of the stream, in order, including those parsed into fields above.
    public var attributes: [SDPAttribute] = []

    /// Whether the profile is SRTP (SAVP, SAVPF), which must never be answered with plain RTP.
    public var isSecure: Bool { proto.uppercased().contains("SAVP") }

    /// Payload type numbers in the format list (non-numbers skipped).
    public var payloadTypes: [Int] { formats.compactMap { Int($0) }.filter { (0...127).contains($0) } }

    /// The direction in force: the stream's own, else the session's, else sendrecv (RFC 4566 §6).
    public func direction(sessionDefault: SDPDirection?) -> SDPDirection {
        explicitDirection ?? sessionDefault ?? .sendrecv
    }

    static func parse(_ value: Substring, line: Int) throws(SIPParseError) -> SDPMedia {
        let p = value.split(separator: " ", omittingEmptySubsequences: true)
        guard p.count >= 3 else { throw .malformedMediaLine(line: line) }
        let portPieces = p[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portPieces.count <= 2, portPieces[0].count <= 5, let port = Int(portPieces[0]), (0...65535).contains(port)
        else { throw .malformedMediaLine(line: line) }
        var count: Int?
        if portPieces.count == 2 {
            guard portPieces[1].count <= 5, let n = Int(portPieces[1]), n > 0 else {
                throw .malformedMediaLine(line: line)
            }
            count = n
        }
        return SDPMedia(
            kind: String(p[0]).lowercased(),
            port: port,
            portCount: count,
            proto: String(p[2]),
            formats: p.dropFirst(3).map(String.init)
        )
    }

    /// Applies one `a=` line of this stream.
    mutating func apply(_ attribute: SDPAttribute) {
        attributes.append(attribute)
        let value = attribute.value.map { SIPSyntax.trim(Substring($0)) }
        switch attribute.name.lowercased() {
        case "rtpmap": if let value, let map = SDPRTPMap.parse(value) { rtpmaps.append(map) }
        case "fmtp":
            if let value, let space = value.firstIndex(of: " "), let pt = Int(value[..<space]), (0...127).contains(pt) {
                fmtp[pt] = String(SIPSyntax.trim(value[space...]))
            }
        case "label": if let value, !value.isEmpty { label = String(value) }
        case "crypto": if let value, let line = SDPCrypto.parse(value) { crypto.append(line) }
        case "rtcp":
            if let value {
                let pieces = value.split(separator: " ")
                if let first = pieces.first, first.count <= 5, let port = Int(first), (0...65535).contains(port) {
                    rtcpPort = port
                    if pieces.count == 4 { rtcpAddress = String(pieces[3]) }
                }
            }
        case "rtcp-mux": rtcpMux = true
        default:
            if let direction = SDPDirection(rawValue: attribute.name.lowercased()) { explicitDirection = direction }
        }
    }
}
