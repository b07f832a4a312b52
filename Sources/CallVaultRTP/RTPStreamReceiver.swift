public import CallVaultAudio

/// Receives one `m=` stream: datagrams in, 20 ms PCM16 ``Frame``s on the stream's timeline and
/// DTMF digits out.
///
/// **Timeline.** Audio is placed by RTP timestamp, not by arrival: position = the position of the
/// newest packet + its timestamp difference, scaled to the frame rate (G.722's 8000 Hz clock to
/// 16 kHz, Opus's 48 kHz to ``Configuration/opusRate``). Samples go into a PCM ring that holds
/// the reorder window; a frame is handed out once the newest audio is a window past its end, so a
/// packet up to ``Configuration/reorderWindowMs`` late still lands in place, and anything older is
/// dropped and counted. What no packet covered is silence (lost packets, comfort noise, DTX).
///
/// **Discontinuities.** A forward gap is filled with silence only if it is at most
/// ``Configuration/maxGapMs`` and RTP time does not run more than
/// ``Configuration/clockToleranceMs`` ahead of arrival time; a backward timestamp jump on an
/// in-order packet, or a forward one beyond those bounds, restarts the timeline where the audio
/// ends plus the silence the arrival clock says passed (capped). An SSRC change (confirmed by two
/// packets with nearby sequence numbers, so a stray packet cannot take the stream over) is a new epoch placed the
/// same way: the timeline goes on, never overlapping what was written. Packets from the SSRC
/// before the change are dropped as stale for two seconds.
///
/// **Cost.** Everything is allocated in `init` (the PCM ring, a decode scratch buffer, the
/// ``FrameRing``, the decoders); per packet it is a header parse, table look-ups, one decode and
/// copies. One receiver per stream, used from one thread at a time.
public final class RTPStreamReceiver {
    /// Longest audio one packet may carry (an MTU of G.711 is 186 ms).
    public static let maxPacketMs = 200
    /// How long after an SSRC change the previous SSRC's packets are dropped as stale (2 s).
    static let staleSSRCNanos: UInt64 = 2_000_000_000

    public let configuration: Configuration
    /// The rate of every frame: the natural rate of the first audio codec in the map.
    public let sampleRate: SampleRate
    /// The ring frames live in.
    public let ring: FrameRing
    public internal(set) var counters = RTPStreamCounters()

    /// PCM waiting for the reorder window, indexed by timeline position modulo its size; every
    /// sample outside [emitted, highWater) is zero, so unfilled stretches come out as silence.
    let pcm: UnsafeMutableBufferPointer<Int16>
    /// One packet's decoded samples.
    let scratch: UnsafeMutableBufferPointer<Int16>
    let windowSamples: Int64
    let maxGapSamples: Int64
    let toleranceSamples: Int64
    let g722: G722Decoder?
    let opus: OpusDecoder?

    /// Position (samples) of the next frame to hand out; a multiple of the frame size.
    var emitted: Int64 = 0
    /// End of the furthest audio written.
    var highWater: Int64 = 0
    var started = false
    var ssrc: UInt32 = 0
    var previousSSRC: UInt32?
    /// The newest in-order packet's timestamp and position: what other timestamps are measured from.
    var referenceTimestamp: UInt32 = 0
    var referencePosition: Int64 = 0
    /// Position and arrival time of the stream's first packet: RTP time may not outrun this clock.
    var anchorPosition: Int64 = 0
    var anchorArrival: UInt64 = 0
    var lastArrival: UInt64 = 0
    var lastPacketSamples: Int64 = 0
    /// A different SSRC seen once, waiting for its next packet to confirm it.
    var hasCandidate = false
    var candidateSSRC: UInt32 = 0
    var candidateSequence: UInt16 = 0
    /// When the SSRC last changed: the old one's stragglers are dropped for ``staleSSRCNanos``
    /// after, and may take the stream back (confirmed like any new SSRC) later.
    var switchedAt: UInt64 = 0
    var sequence: RTPSequence
    var seen = RTPReplayWindow()
    var events = TelephoneEventDecoder()

    /// - Throws: `AudioError` if the Opus decoder cannot be created; a map without audio codecs
    ///   gives an 8 kHz receiver that only reports DTMF.
    public init(configuration: Configuration) throws(AudioError) {
        self.configuration = configuration
        let primary = configuration.payloads.primaryAudioCodec ?? .pcmu
        let rate = primary.naturalRate(opusRate: configuration.opusRate)
        sampleRate = rate
        ring = FrameRing(sampleRate: rate, capacity: max(1, configuration.ringCapacity))
        let perMs = Int64(rate.rawValue / 1000)
        windowSamples = Int64(min(max(configuration.reorderWindowMs, 0), 200)) * perMs
        maxGapSamples = Int64(max(configuration.maxGapMs, 0)) * perMs
        toleranceSamples = Int64(max(configuration.clockToleranceMs, 0)) * perMs
        let frame = rate.samplesPerFrame
        let maxPacket = Self.maxPacketMs * Int(perMs)
        let needed = Int(windowSamples) + maxPacket + 2 * frame
        pcm = .allocate(capacity: (needed + frame - 1) / frame * frame)
        pcm.initialize(repeating: 0)
        scratch = .allocate(capacity: maxPacket)
        scratch.initialize(repeating: 0)
        g722 = primary == .g722 ? G722Decoder() : nil
        opus = primary == .opus ? try OpusDecoder(sampleRate: rate) : nil
        sequence = RTPSequence(minSequential: configuration.minSequential)
    }

    deinit {
        pcm.deallocate()
        scratch.deallocate()
    }

    /// Where the next frame will start on the timeline (ms).
    public var nextFrameTimestampMs: Int64 { timestampMs(at: emitted) }

    /// Takes one datagram that arrived at `arrivalNanos` (any monotonic clock in nanoseconds) and
    /// hands `sink` every frame and digit it completes.
    @discardableResult
    public func receive<Sink: RTPStreamSink>(
        _ datagram: UnsafeRawBufferPointer, arrivalNanos: UInt64, into sink: inout Sink
    ) -> RTPReceiveOutcome {
        if RTPHeader.isRTCP(datagram) {
            counters.rtcpPackets += 1
            return .rtcp
        }
        let header: RTPHeader
        do {
            header = try RTPHeader.parse(datagram)
        } catch {
            counters.malformed += 1
            return .malformed(error)
        }
        guard let codec = configuration.payloads.codec(for: header.payloadType) else {
            counters.unknownPayloadType += 1
            return .unknownPayloadType(header.payloadType)
        }
        if !started {
            started = true
            anchorArrival = arrivalNanos
            startEpoch(header, at: 0, arrival: arrivalNanos)
        } else if header.ssrc != ssrc {
            if header.ssrc == previousSSRC && arrivalNanos &- switchedAt < Self.staleSSRCNanos {
                counters.staleSSRC += 1
                return .staleSSRC
            }
            // A new SSRC takes over only when a second packet of it arrives with a nearby sequence
            // number (either order: the switch may be reordered too): one stray or spoofed packet
            // must not end the stream it would replace.
            let distance = Int16(bitPattern: header.sequenceNumber &- candidateSequence).magnitude
            guard hasCandidate, header.ssrc == candidateSSRC, distance >= 1, distance <= 16 else {
                hasCandidate = true
                candidateSSRC = header.ssrc
                candidateSequence = header.sequenceNumber
                counters.unconfirmedSSRC += 1
                return .unconfirmedSSRC
            }
            hasCandidate = false
            counters.ssrcChanges += 1
            previousSSRC = ssrc
            switchedAt = arrivalNanos
            startEpoch(header, at: restartPosition(arrival: arrivalNanos), arrival: arrivalNanos)
        }
        let inOrder: Bool
        switch sequence.update(header.sequenceNumber) {
        case .probation, .jumped:
            counters.sequenceRejected += 1
            return .sequenceRejected
        case .advanced(let extended):
            if let outcome = checkDuplicate(extended) { return outcome }
            inOrder = true
        case .behind(let extended):
            if let outcome = checkDuplicate(extended) { return outcome }
            inOrder = false
        }
        let payload = header.payload(in: datagram)
        switch codec {
        case .telephoneEvent:
            counters.telephoneEventPackets += 1
            report(payload, header: header, into: &sink)
            return .telephoneEvent
        case .comfortNoise:
            counters.comfortNoisePackets += 1
            return .comfortNoise
        case .pcmu, .pcma, .g722, .opus:
            guard codec.naturalRate(opusRate: configuration.opusRate) == sampleRate else {
                counters.rateMismatch += 1
                return .rateMismatch
            }
            let count = decode(payload, codec)
            guard count >= 0 else { return count == Self.decodeTooLong ? .tooLong : .decodeFailed }
            return place(count, header: header, codec: codec, inOrder: inOrder, arrival: arrivalNanos, into: &sink)
        }
    }

    /// Hands out everything still waiting for the reorder window, the last frame padded with silence
    /// (at the end of the stream, or before a pause).
    public func flush<Sink: RTPStreamSink>(into sink: inout Sink) {
        while emitted < highWater { emitFrame(into: &sink) }
    }

    func checkDuplicate(_ extended: Int64) -> RTPReceiveOutcome? {
        switch seen.check(extended) {
        case .duplicate:
            counters.duplicates += 1
            return .duplicate
        case .tooOld:
            counters.late += 1
            return .late
        case .new:
            seen.mark(extended)
            return nil
        }
    }

    static let decodeTooLong = -1
    static let decodeFailed = -2

    /// Decodes `payload` into `scratch`: the sample count, or (counted) `decodeTooLong` or `decodeFailed`.
    func decode(_ payload: UnsafeRawBufferPointer, _ codec: RTPCodec) -> Int {
        switch codec {
        case .pcmu, .pcma:
            guard payload.count <= scratch.count else { break }
            let out = UnsafeMutableBufferPointer(rebasing: scratch[0..<payload.count])
            if codec == .pcmu { try? G711.decodeMuLaw(payload, into: out) } else { try? G711.decodeALaw(payload, into: out) }
            return payload.count
        case .g722:
            guard payload.count * 2 <= scratch.count, let g722 else { break }
            return g722.decode(payload, into: scratch)
        case .opus:
            guard let opus else { break }
            let out = UnsafeMutableBufferPointer(rebasing: scratch[0..<sampleRate.samplesPerFrame])
            do {
                try opus.decode(payload, into: out)
                return out.count
            } catch {
                counters.decodeFailed += 1
                return Self.decodeFailed
            }
        case .telephoneEvent, .comfortNoise:
            break
        }
        counters.tooLong += 1
        return Self.decodeTooLong
    }

    func report<Sink: RTPStreamSink>(_ payload: UnsafeRawBufferPointer, header: RTPHeader, into sink: inout Sink) {
        guard let event = TelephoneEvent(payload: payload),
            let digit = events.decode(event, timestamp: header.timestamp)
        else { return }
        counters.digits += 1
        let position = position(of: header.timestamp, clock: configuration.payloads.primaryAudioCodec?.rtpClockRate ?? 8000)
        sink.receive(
            dtmf: DTMFEvent(
                digit: digit, timestampMs: timestampMs(at: max(position, 0)), rtpTimestamp: header.timestamp,
                fromEndPacket: event.isEnd))
    }

    func timestampMs(at position: Int64) -> Int64 {
        configuration.startMs + position * 1000 / Int64(sampleRate.rawValue)
    }
}
