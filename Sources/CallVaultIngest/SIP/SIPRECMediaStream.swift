import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import CallVaultRTP
import CallVaultRecorder
import CallVaultSIP
import Foundation
import NIOCore
import NIOPosix

/// One accepted audio stream of a SIP session: its RTP socket, the track it records, the codecs
/// answered, and its ``RTPStreamReceiver`` (plus an ``SRTPContext`` for an SDES-keyed stream).
/// Datagrams go straight from the socket through SRTP, the receiver and the call's consent gate to
/// the sealer: no intermediate plaintext anywhere. Confined to its call's event loop.
final class SIPRECMediaStream {
    /// What the answer accepts of one offered `m=` line, decided before any port is taken.
    struct Plan {
        let mediaIndex: Int
        let track: RecordingTrack
        let codecs: [SDPRTPMap]
        let fmtp: [Int: String]
        /// Where the SRC said it sends from (the `c=` address), for pinning the stream to it.
        let sourceAddress: String?
        /// The SRC's SDES key (its sending key, which decrypts what it sends) and the `a=crypto` value
        /// CallVault answers with (the same tag and suite, a fresh key of its own).
        let srtp: (offer: SDPCrypto, answer: String)?
    }

    /// Why an offered line is answered with port 0 (logged and counted).
    enum Refusal: String {
        case notAudio, disabled, unsupportedProfile, noCodec, unknownSpeaker, unsupportedCrypto
    }

    /// A plan per offered `m=` line, or the reason it is refused (port 0): non-audio, disabled,
    /// profiles other than RTP/AVP(F) and RTP/SAVP(F), streams whose speaker the metadata leaves
    /// unknown, no codec CallVault decodes, an SRTP stream without a supported SDES key (never
    /// answered with plain RTP).
    static func plan(offer: SDPSession, mapping: TrackMapping) -> [Result<Plan, RefusalReason>] {
        offer.media.indices.map { index -> Result<Plan, RefusalReason> in
            let media = offer.media[index]
            guard media.kind == "audio" else { return .failure(.init(.notAudio)) }
            guard media.port != 0 else { return .failure(.init(.disabled)) }
            let proto = media.proto.uppercased()
            guard proto == "RTP/AVP" || proto == "RTP/AVPF" || proto == "RTP/SAVP" || proto == "RTP/SAVPF" else {
                return .failure(.init(.unsupportedProfile))
            }
            guard let mapped = mapping.tracks.first(where: { $0.mediaIndex == index }) else { return .failure(.init(.unknownSpeaker)) }
            let track: RecordingTrack
            switch mapped.role {
            case .caller: track = .caller
            case .bot: track = .bot
            case .unknown: return .failure(.init(.unknownSpeaker))
            }
            let codecs = media.offeredCodecs.filter { RTPCodec(encodingName: $0.encoding) != nil }
            guard codecs.contains(where: { RTPCodec(encodingName: $0.encoding)?.isAudio == true }) else {
                return .failure(.init(.noCodec))
            }
            var srtp: (SDPCrypto, String)?
            if media.isSecure {
                guard let (offered, answer) = media.crypto.lazy.compactMap(Self.answer(to:)).first else {
                    return .failure(.init(.unsupportedCrypto))
                }
                srtp = (offered, answer)
            }
            var fmtp: [Int: String] = [:]
            for codec in codecs { fmtp[codec.payloadType] = media.fmtp[codec.payloadType] }
            return .success(
                Plan(mediaIndex: index, track: track, codecs: codecs, fmtp: fmtp,
                     sourceAddress: offer.connection(ofMedia: index)?.address, srtp: srtp))
        }
    }

    struct RefusalReason: Error {
        let reason: Refusal
        init(_ reason: Refusal) { self.reason = reason }
    }

    /// The SDES answer to one offered `a=crypto` line CallVault can use: the same tag and suite and a
    /// fresh random key and salt; nil for a suite or key CallVault does not support.
    static func answer(to crypto: SDPCrypto) -> (SDPCrypto, String)? {
        guard (try? SRTPKeyParameters(crypto: crypto)) != nil, let suite = try? SRTPCryptoSuite(name: crypto.suite) else { return nil }
        guard let key = try? SecureRandom.bytes(SRTPCryptoSuite.masterKeyLength + SRTPCryptoSuite.masterSaltLength) else {
            return nil
        }
        return (crypto, "\(crypto.tag) \(suite.rawValue) inline:\(Data(key).base64EncodedString())")
    }

    let plan: Plan
    let port: Int
    /// Whether the SRC sends on it now (not `inactive`): while paused, packets are dropped.
    var active = true {
        didSet { if !active, oldValue { flush() } }
    }
    private let lifecycle: CallLifecycle
    private let metrics: IngestMetrics
    private let receiver: RTPStreamReceiver
    private let srtp: SRTPContext?
    /// Where the session began (monotonic ns): each stream's first packet places it on the call timeline.
    private let sessionStart: UInt64
    private var offsetMs: Int64?
    /// The source the stream latched onto (the first packet from the SRC's address); others are ignored.
    private var latched: SocketAddress?
    /// Room to decrypt an SRTP packet in place without touching the socket's buffer.
    private let scratch: UnsafeMutableRawBufferPointer
    private var channel: (any Channel)?
    private var rtcpChannel: (any Channel)?
    /// Set once the call refused a frame (its recording failed): the stream stops feeding it.
    private(set) var failure: MediaClose? {
        didSet { if let failure, oldValue == nil { onFailure?(failure) } }
    }
    /// Told once when the call refused a frame, so the session ends (a BYE to the SRC).
    var onFailure: ((MediaClose) -> Void)?

    init(plan: Plan, port: Int, lifecycle: CallLifecycle, metrics: IngestMetrics, sessionStart: UInt64) throws {
        self.plan = plan
        self.port = port
        self.lifecycle = lifecycle
        self.metrics = metrics
        self.sessionStart = sessionStart
        var configuration = RTPStreamReceiver.Configuration(
            payloads: RTPPayloadMap(rtpmaps: plan.codecs))
        configuration.opusRate = .hz16000
        receiver = try RTPStreamReceiver(configuration: configuration)
        srtp = try plan.srtp.map { try SRTPContext(crypto: $0.offer) }
        scratch = .allocate(byteCount: 2048, alignment: 8)
    }

    deinit { scratch.deallocate() }

    /// The rate the stream's frames come at (its first audio codec's).
    var sampleRate: SampleRate { receiver.sampleRate }

    /// Binds the RTP socket (and RTCP on the next port, read and dropped) on `eventLoop`, exclusively.
    func bind(host: String, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        // No SO_REUSEADDR: on UDP it would let a second socket (another stream, another serve on this
        // host with an overlapping --rtp-ports) bind the same port and silently take its packets. A port
        // in use fails the bind, and the INVITE gets 503 instead.
        let rtp = DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RTPInboundHandler(stream: bound))
                }
            }
            .bind(host: host, port: port)
            .map { bound.value.channel = $0 }
        let rtcp = DatagramBootstrap(group: eventLoop)
            .bind(host: host, port: port + 1)
            .map { bound.value.rtcpChannel = $0 }
        return rtp.and(rtcp).map { _ in }
    }

    /// One datagram from the network: pinned to the SRC's address, SRTP-unprotected, decoded, gated,
    /// sealed. Everything refused is counted by its reason.
    func receive(_ datagram: ByteBuffer, from source: SocketAddress) {
        guard active, failure == nil else { return }
        if let latched {
            guard latched == source else { return metrics.protocolError("rtp.foreignSource") }
        } else {
            // The first packet from the address the SDP named (any port: NAT) pins the stream.
            if let expected = plan.sourceAddress, expected != "0.0.0.0", expected != "::", source.ipAddress != expected {
                return metrics.protocolError("rtp.foreignSource")
            }
            latched = source
        }
        // One clock read per packet: the idle clock's and the receiver's arrival time are the same instant.
        let arrival = lifecycle.noteMedia().uptimeNanoseconds
        if offsetMs == nil {
            offsetMs = Int64((arrival &- sessionStart) / 20_000_000) * 20
        }
        var sink = TrackSink(lifecycle: lifecycle, track: plan.track, offsetMs: offsetMs ?? 0)
        let outcome: RTPReceiveOutcome
        if let srtp {
            let count = datagram.readableBytes
            guard count <= scratch.count else { return metrics.protocolError("rtp.tooLong") }
            datagram.withUnsafeReadableBytes { scratch.copyMemory(from: $0) }
            let packet = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            if RTPHeader.isRTCP(UnsafeRawBufferPointer(packet)) { return }
            let length: Int
            do { length = try srtp.unprotect(packet) } catch { return metrics.protocolError(Self.metric(error)) }
            outcome = receiver.receive(UnsafeRawBufferPointer(rebasing: scratch[0..<length]), arrivalNanos: arrival, into: &sink)
        } else {
            outcome = datagram.withUnsafeReadableBytes { receiver.receive($0, arrivalNanos: arrival, into: &sink) }
        }
        count(outcome)
        if let close = sink.close { failure = close }
    }

    private func count(_ outcome: RTPReceiveOutcome) {
        switch outcome {
        case .audio, .telephoneEvent, .comfortNoise, .rtcp: return
        case .malformed: metrics.protocolError("rtp.malformed")
        case .unknownPayloadType: metrics.protocolError("rtp.unknownPayloadType")
        case .rateMismatch: metrics.protocolError("rtp.rateMismatch")
        case .decodeFailed: metrics.protocolError("rtp.decodeFailed")
        case .tooLong: metrics.protocolError("rtp.tooLong")
        case .duplicate: metrics.protocolError("rtp.duplicate")
        case .late: metrics.protocolError("rtp.late")
        case .sequenceRejected: metrics.protocolError("rtp.sequenceJump")
        case .staleSSRC: metrics.protocolError("rtp.staleSSRC")
        case .unconfirmedSSRC: metrics.protocolError("rtp.unconfirmedSSRC")
        }
    }

    /// The protocol-error kind a refused SRTP packet is counted under.
    static func metric(_ error: SRTPError) -> String {
        switch error {
        case .authenticationFailed: "srtp.authenticationFailed"
        case .replayed: "srtp.replayed"
        case .tooOld: "srtp.tooOld"
        case .retiredSSRC: "srtp.retiredSSRC"
        case .unknownMKI: "srtp.unknownMKI"
        default: "srtp.malformed"
        }
    }

    /// Hands the call what the reorder window still holds (before a pause, at the end).
    func flush() {
        guard failure == nil, offsetMs != nil else { return }
        var sink = TrackSink(lifecycle: lifecycle, track: plan.track, offsetMs: offsetMs ?? 0)
        receiver.flush(into: &sink)
        if let close = sink.close { failure = close }
    }

    func close() {
        channel?.close(promise: nil)
        rtcpChannel?.close(promise: nil)
        channel = nil
        rtcpChannel = nil
    }
}

/// Delivers one stream's frames and keys to the call: frames moved onto the call's timeline and
/// taken by the consent gate; keys (RFC 4733) only from the customer's stream, where consent is given.
private struct TrackSink: RTPStreamSink {
    let lifecycle: CallLifecycle
    let track: RecordingTrack
    let offsetMs: Int64
    var close: MediaClose?

    mutating func receive(frame: Frame) {
        guard close == nil else { return }
        var placed = frame
        placed.timestampMs += offsetMs
        close = lifecycle.take(placed, track: track)
    }

    mutating func receive(dtmf: DTMFEvent) {
        guard track == .caller else { return }
        lifecycle.applyDigit(dtmf.digit)
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
