import COpus

/// Decodes Opus packets to 20 ms PCM16 frames, one decoder state per track, created once; conceals
/// a missing frame (packet loss concealment) so the timeline keeps its length.
///
/// Packets come from the network, so every one is untrusted: before decoding, the packet's TOC
/// byte and frame count are checked (`opus_decoder_get_nb_samples`), and a packet that is not
/// exactly one 20 ms frame, or that libopus rejects, throws `invalidOpusPacket` — never a crash,
/// never a frame of the wrong length. `decode` and `decodeMissing` write into the caller's buffer
/// and allocate nothing. One decoder belongs to one track and is used from one thread at a time.
public final class OpusDecoder {
    public let sampleRate: SampleRate
    private let state: OpaquePointer

    /// Creates the decoder state (mono, at `sampleRate`); the only allocation this type makes.
    ///
    /// The corresponding C function is `opus_decoder_create`.
    public init(sampleRate: SampleRate) throws(AudioError) {
        var error: Int32 = 0
        guard let state = opus_decoder_create(Int32(sampleRate.rawValue), 1, &error), error == OPUS_OK else {
            throw AudioError(
                .codecFailure,
                "cannot create an Opus decoder at \(sampleRate): \(OpusEncoder.describe(error))"
            )
        }
        self.state = state
        self.sampleRate = sampleRate
    }

    deinit { opus_decoder_destroy(state) }

    /// Decodes one packet into `samples` (exactly one 20 ms frame at ``sampleRate``).
    ///
    /// The corresponding C function is `opus_decode`.
    /// - Throws: `wrongFrameLength` if `samples` is not one frame long; `invalidOpusPacket` for an
    ///   empty or corrupt packet, or one holding other than 20 ms of audio (the message says how much).
    public func decode(_ packet: UnsafeRawBufferPointer, into samples: UnsafeMutableBufferPointer<Int16>)
        throws(AudioError)
    {
        try checkFrame(samples)
        guard let data = packet.baseAddress?.assumingMemoryBound(to: UInt8.self), !packet.isEmpty else {
            throw AudioError(
                .invalidOpusPacket,
                "an empty Opus packet (a missing frame is concealed with decodeMissing)"
            )
        }
        guard let length = Int32(exactly: packet.count) else {
            throw AudioError(
                .invalidOpusPacket,
                "an Opus packet of \(packet.count) bytes is longer than any valid packet"
            )
        }
        let announced = opus_decoder_get_nb_samples(state, data, length)
        guard announced >= 0 else {
            throw AudioError(
                .invalidOpusPacket,
                "Opus packet of \(length) bytes rejected: \(OpusEncoder.describe(announced))"
            )
        }
        guard announced == Int32(samples.count) else {
            throw AudioError(
                .invalidOpusPacket,
                "Opus packet of \(length) bytes holds \(Self.milliseconds(announced, sampleRate)) of audio, not one 20 ms frame"
            )
        }
        try run(data, length, samples)
    }

    /// Fills `samples` (one 20 ms frame) with loss concealment for a frame that never arrived:
    /// libopus extrapolates from the previous frames and fades to silence over longer gaps.
    ///
    /// The corresponding C call is `opus_decode` with a null packet.
    /// - Throws: `wrongFrameLength` if `samples` is not one frame long.
    public func decodeMissing(into samples: UnsafeMutableBufferPointer<Int16>) throws(AudioError) {
        try checkFrame(samples)
        try run(nil, 0, samples)
    }

    /// Forgets the history, as for a new stream (the corresponding C call is `OPUS_RESET_STATE`).
    public func reset() {
        _ = cv_opus_decoder_reset(state)
    }

    private func checkFrame(_ samples: UnsafeMutableBufferPointer<Int16>) throws(AudioError) {
        guard samples.count == sampleRate.samplesPerFrame else {
            throw AudioError(
                .wrongFrameLength,
                "an Opus frame at \(sampleRate) has \(sampleRate.samplesPerFrame) samples, not \(samples.count)"
            )
        }
    }

    private func run(_ data: UnsafePointer<UInt8>?, _ length: Int32, _ samples: UnsafeMutableBufferPointer<Int16>)
        throws(AudioError)
    {
        guard let output = samples.baseAddress else {
            throw AudioError(.wrongFrameLength, "an Opus frame needs room for \(sampleRate.samplesPerFrame) samples")
        }
        let decoded = opus_decode(state, data, length, output, Int32(samples.count), 0)
        guard decoded == Int32(samples.count) else {
            throw AudioError(
                .invalidOpusPacket,
                decoded < 0
                    ? "Opus packet of \(length) bytes rejected: \(OpusEncoder.describe(decoded))"
                    : "Opus packet of \(length) bytes decoded to \(decoded) samples, not one 20 ms frame"
            )
        }
    }

    /// A sample count as a duration for messages ("40 ms", "2.5 ms").
    private static func milliseconds(_ count: Int32, _ rate: SampleRate) -> String {
        let tenths = Int(count) * 10_000 / rate.rawValue
        return tenths % 10 == 0 ? "\(tenths / 10) ms" : "\(tenths / 10).\(tenths % 10) ms"
    }
}
