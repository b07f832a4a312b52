/// An `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` line. Codecs are taken from these, not from
/// static payload-type tables, because SBCs put telephone-event on 96, 101, 108 or 126.
public struct SDPRTPMap: Sendable, Equatable {
    public var payloadType: Int
    /// As written (`PCMU`, `opus`, `telephone-event`); compare case-insensitively.
    public var encoding: String
    public var clockRate: Int
    public var channels: Int?

    public init(payloadType: Int, encoding: String, clockRate: Int, channels: Int?) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
    }

    static func parse(_ value: Substring) -> SDPRTPMap? {
        let halves = value.split(separator: " ", maxSplits: 1)
        guard halves.count == 2, let pt = Int(halves[0]), (0...127).contains(pt) else { return nil }
        let pieces = SIPSyntax.trim(halves[1]).split(separator: "/")
        guard pieces.count >= 2, pieces.count <= 3, let clock = Int(pieces[1]), clock > 0 else { return nil }
        var channels: Int?
        if pieces.count == 3 {
            guard let n = Int(pieces[2]), n > 0 else { return nil }
            channels = n
        }
        return SDPRTPMap(payloadType: pt, encoding: String(pieces[0]), clockRate: clock, channels: channels)
    }
}
