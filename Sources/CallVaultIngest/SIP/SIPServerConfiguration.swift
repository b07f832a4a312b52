public import NIOCore

/// What `callvault serve --sip … --rtp-ports …` listens on and how its SIP user-agent server behaves.
public struct SIPServerConfiguration: Sendable {
    /// RFC 3261 §18 transports: UDP (a datagram a message), TCP (a stream framed by Content-Length) and
    /// TLS (the same stream inside TLS, §26.2; SRCs usually use port 5061).
    public enum Transport: String, Sendable, CaseIterable {
        case udp, tcp, tls

        /// The Via transport token (`SIP/2.0/TLS`); lowercased it is the URI `transport=` parameter.
        public var viaName: String { rawValue.uppercased() }
        /// A reliable, connection-oriented transport: responses go back on the connection and nothing
        /// is retransmitted (RFC 3261 §17.2.1).
        public var isStream: Bool { self != .udp }
    }

    public struct Listener: Sendable, Equatable, CustomStringConvertible {
        public var transport: Transport
        public var host: String
        public var port: Int

        public init(transport: Transport, host: String, port: Int) {
            self.transport = transport
            self.host = host
            self.port = port
        }

        /// `udp:HOST:PORT`, `tcp:HOST:PORT` or `tls:HOST:PORT`; nil otherwise.
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

        /// The form `--sip` takes, `tls:HOST:PORT` (an IPv6 host in brackets).
        public var description: String {
            "\(transport.rawValue):" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        }
    }

    public var listeners: [Listener]
    /// The certificate and key the `tls` listeners present (`--tls-cert`/`--tls-key`, the HTTP
    /// listener's): read per new connection, so a SIGHUP reload reaches new SIP connections too.
    public var tls: TLSCredentials?
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
        listeners: [Listener], tls: TLSCredentials? = nil, rtpPorts: ClosedRange<Int> = 20_000...29_999,
        advertisedAddress: String? = nil,
        rtpBindAddress: String? = nil, maximumDialogs: Int = 2_000, t1: TimeAmount = .milliseconds(500),
        t2: TimeAmount = .seconds(4), tickInterval: TimeAmount = .seconds(1)
    ) {
        self.listeners = listeners
        self.tls = tls
        self.rtpPorts = rtpPorts
        self.advertisedAddress = advertisedAddress
        self.rtpBindAddress = rtpBindAddress
        self.maximumDialogs = maximumDialogs
        self.t1 = t1
        self.t2 = t2
        self.tickInterval = tickInterval
    }

    /// Refuses listeners the TLS settings rule out: a `tls:` one without a certificate and key, and with
    /// `requireTLS` (`serve --require-tls`) a plain `udp:` or `tcp:` one, whose signalling (who called
    /// whom, the SDES keys of SRTP) would cross the network in the clear. Named in `--sip` order.
    public static func check(
        _ listeners: [Listener], hasCredentials: Bool, requireTLS: Bool
    ) throws(SIPServerError) {
        for listener in listeners {
            if listener.transport == .tls, !hasCredentials { throw .tlsWithoutCertificate(listener.description) }
            if listener.transport != .tls, requireTLS { throw .plainListenerWithRequiredTLS(listener.description) }
        }
    }

    /// The address SDP and Contact carry.
    var mediaAddress: String { advertisedAddress ?? listeners.first?.host ?? "127.0.0.1" }
}
