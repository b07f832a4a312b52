import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultSIP
import NIOCore
import NIOPosix

/// One accepted audio stream of a SIP session: its RTP socket, the track it records, the codecs
/// answered. Confined to its call's event loop.
final class SIPRECMediaStream {
    /// What the answer accepts of one offered `m=` line, decided before any port is taken.
    struct Plan {
        let mediaIndex: Int
        let track: RecordingTrack
        let codecs: [SDPRTPMap]
        let fmtp: [Int: String]
    }

    /// The codecs CallVault decodes, by rtpmap encoding name (uppercased).
    static let decodable: Set<String> = ["PCMU", "PCMA", "TELEPHONE-EVENT"]

    /// A plan per offered `m=` line: nil (refused, port 0) for non-audio, SRTP (until SDES is built),
    /// streams whose speaker is unknown, and streams offering no codec CallVault decodes.
    static func plan(offer: SDPSession, mapping: TrackMapping) -> [Plan?] {
        offer.media.indices.map { index in
            let media = offer.media[index]
            guard media.kind == "audio", media.port != 0, !media.isSecure, media.proto.uppercased().hasPrefix("RTP/AVP"),
                let mapped = mapping.tracks.first(where: { $0.mediaIndex == index })
            else { return nil }
            let track: RecordingTrack
            switch mapped.role {
            case .caller: track = .caller
            case .bot: track = .bot
            case .unknown: return nil
            }
            let codecs = media.offeredCodecs.filter { decodable.contains($0.encoding.uppercased()) }
            guard codecs.contains(where: { $0.encoding.uppercased() != "TELEPHONE-EVENT" }) else { return nil }
            var fmtp: [Int: String] = [:]
            for codec in codecs { fmtp[codec.payloadType] = media.fmtp[codec.payloadType] }
            return Plan(mediaIndex: index, track: track, codecs: codecs, fmtp: fmtp)
        }
    }

    let plan: Plan
    let port: Int
    /// Whether the SRC sends on it now (not `inactive`): while paused, packets are dropped.
    var active = true
    private let lifecycle: CallLifecycle
    private let metrics: IngestMetrics
    private var channel: (any Channel)?
    private var rtcpChannel: (any Channel)?

    init(plan: Plan, port: Int, lifecycle: CallLifecycle, metrics: IngestMetrics) {
        self.plan = plan
        self.port = port
        self.lifecycle = lifecycle
        self.metrics = metrics
    }

    /// Binds the RTP socket (and RTCP on the next port, read and dropped) on `eventLoop`.
    func bind(host: String, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let rtp = DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RTPInboundHandler(stream: bound))
                }
            }
            .bind(host: host, port: port)
            .map { bound.value.channel = $0 }
        let rtcp = DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port + 1)
            .map { bound.value.rtcpChannel = $0 }
        return rtp.and(rtcp).map { _ in }
    }

    /// One datagram from the SRC.
    func receive(_ datagram: ByteBuffer, from source: SocketAddress) {
        guard active else { return }
        _ = lifecycle.noteMedia()
        metrics.protocolError("sip.rtpNotDecoded")
    }

    func close() {
        channel?.close(promise: nil)
        rtcpChannel?.close(promise: nil)
        channel = nil
        rtcpChannel = nil
    }
}

/// Hands each RTP datagram of a stream's socket to the stream, on the call's loop.
private final class RTPInboundHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let stream: NIOLoopBound<SIPRECMediaStream>

    init(stream: NIOLoopBound<SIPRECMediaStream>) { self.stream = stream }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        stream.value.receive(envelope.data, from: envelope.remoteAddress)
    }
}
