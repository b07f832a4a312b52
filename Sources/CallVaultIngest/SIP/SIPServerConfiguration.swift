public import NIOCore

/// What `callvault serve --sip … --rtp-ports …` listens on and how its SIP user-agent server behaves.
public struct SIPServerConfiguration: Sendable {
    public enum Transport: String, Sendable { case udp, tcp }

    public struct Listener: Sendable, Equatable {
        public var transport: Transport
        public var host: String
        public var port: Int

        public init(transport: Transport, host: String, port: Int) {
            self.transport = transport
            self.host = host
            self.port = port
        }

        /// `udp:HOST:PORT` or `tcp:HOST:PORT`; nil otherwise.
        public init?(_ text: String) {
            let pieces = text.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2, let transport = Transport(rawValue: pieces[0].lowercased()) else { return nil }
            let rest = pieces[1]
            guard let colon = rest.lastIndex(of: ":"), colon > rest.startIndex,
                let port = Int(rest[rest.index(after: colon)...]), (0...65_535).contains(port)
            else { return nil }
            var host = String(rest[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.init(transport: transport, host: host, port: port)
        }
    }

    public var listeners: [Listener]
    /// The RTP ports handed out, in even/odd pairs.
    public var rtpPorts: ClosedRange<Int>
    /// The address put in SDP answers and Contact headers: where SRCs send media and requests. Nil: the
    /// first listener's host (which must then not be a wildcard).
    public var advertisedAddress: String?
    /// Where RTP sockets bind (nil: the advertised address).
    public var rtpBindAddress: String?
    /// Dialogs at once; more INVITEs get 503 with Retry-After so an SBC fails over.
    public var maximumDialogs: Int
    /// RFC 3261 timer T1 (the round-trip estimate) and T2 (the longest retransmission interval).
    public var t1: TimeAmount
    public var t2: TimeAmount
    /// How often each session checks its limits (silence, call length).
    public var tickInterval: TimeAmount

    public init(
        listeners: [Listener], rtpPorts: ClosedRange<Int> = 20_000...29_999, advertisedAddress: String? = nil,
        rtpBindAddress: String? = nil, maximumDialogs: Int = 2_000, t1: TimeAmount = .milliseconds(500),
        t2: TimeAmount = .seconds(4), tickInterval: TimeAmount = .seconds(1)
    ) {
        self.listeners = listeners
        self.rtpPorts = rtpPorts
        self.advertisedAddress = advertisedAddress
        self.rtpBindAddress = rtpBindAddress
        self.maximumDialogs = maximumDialogs
        self.t1 = t1
        self.t2 = t2
        self.tickInterval = tickInterval
    }

    /// The address SDP and Contact carry.
    var mediaAddress: String { advertisedAddress ?? listeners.first?.host ?? "127.0.0.1" }
}
