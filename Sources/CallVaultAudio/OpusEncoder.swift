import COpus

/// Encodes 20 ms PCM16 frames to Opus (VOIP application), one encoder state per track, created once.
///
/// Recordings a tenant asks to keep as Opus are encoded on the hot path, so `encode` writes into a
/// caller-provided buffer (``maximumPacketBytes`` always suffices) and allocates nothing; the
/// state is made once in `init` and freed in `deinit`. The encoder is tuned for speech: the VOIP
/// application and the voice signal hint. Bitrate and complexity trade size and CPU for quality
/// (see the AudioBenchmarks figures in the README for frames per second per core).
/// One encoder belongs to one track and is used from one thread at a time.
public final class OpusEncoder {
    public let sampleRate: SampleRate
    /// Target bits per second.
    public let bitrate: Int
    /// 0 (fastest) ... 10 (best quality per bit).
    public let complexity: Int
    private let state: OpaquePointer

    /// The largest packet `encode` writes (RFC 6716 caps a frame's packet at 1275 bytes).
    public static let maximumPacketBytes = 1275

    /// Creates and configures the encoder state; the only allocation this type makes.
    ///
    /// The corresponding C functions are `opus_encoder_create` and `opus_encoder_ctl`
    /// (`OPUS_SET_BITRATE`, `OPUS_SET_COMPLEXITY`, `OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)`).
    /// - Parameters:
    ///   - bitrate: bits per second (6,000...510,000); 16 kb/s is good telephone speech.
    ///   - complexity: 0 (fastest) ... 10 (best).
    /// - Throws: `codecFailure` naming the setting that is out of range or that libopus refused.
    public init(sampleRate: SampleRate, bitrate: Int = 16_000, complexity: Int = 5) throws(AudioError) {
        guard (6_000...510_000).contains(bitrate) else {
            throw AudioError(.codecFailure, "Opus bitrate must be 6000...510000 b/s, not \(bitrate)")
        }
        guard (0...10).contains(complexity) else {
            throw AudioError(.codecFailure, "Opus complexity must be 0...10, not \(complexity)")
        }
        var error: Int32 = 0
        guard let state = opus_encoder_create(Int32(sampleRate.rawValue), 1, OPUS_APPLICATION_VOIP, &error),
            error == OPUS_OK
        else {
            throw AudioError(.codecFailure, "cannot create an Opus encoder at \(sampleRate): \(Self.describe(error))")
        }
        guard cv_opus_set_bitrate(state, Int32(bitrate)) == OPUS_OK,
            cv_opus_set_complexity(state, Int32(complexity)) == OPUS_OK,
            cv_opus_set_signal_voice(state) == OPUS_OK
        else {
            opus_encoder_destroy(state)
            throw AudioError(
                .codecFailure,
                "cannot configure the Opus encoder (bitrate \(bitrate), complexity \(complexity))"
            )
        }
        self.state = state
        self.sampleRate = sampleRate
        self.bitrate = bitrate
        self.complexity = complexity
    }

    deinit { opus_encoder_destroy(state) }

    /// Encodes one 20 ms frame into the front of `packet`.
    ///
    /// The corresponding C function is `opus_encode`.
    /// - Returns: the packet's length in bytes.
    /// - Throws: `wrongFrameLength` unless `samples` is exactly one 20 ms frame at ``sampleRate``;
    ///   `codecFailure` if libopus fails (for instance `packet` too small: give it ``maximumPacketBytes``).
    public func encode(_ samples: UnsafeBufferPointer<Int16>, into packet: UnsafeMutableRawBufferPointer)
        throws(AudioError)
        -> Int
    {
        guard samples.count == sampleRate.samplesPerFrame, let input = samples.baseAddress else {
            throw AudioError(
                .wrongFrameLength,
                "an Opus frame at \(sampleRate) has \(sampleRate.samplesPerFrame) samples, not \(samples.count)"
            )
        }
        guard let output = packet.baseAddress, packet.count > 0 else {
            throw AudioError(.codecFailure, "no room for an Opus packet (give encode \(Self.maximumPacketBytes) bytes)")
        }
        let room = Int32(min(packet.count, Self.maximumPacketBytes))
        let written = opus_encode(state, input, Int32(samples.count), output.assumingMemoryBound(to: UInt8.self), room)
        guard written > 0 else {
            throw AudioError(.codecFailure, "Opus encode into \(room) bytes failed: \(Self.describe(written))")
        }
        return Int(written)
    }

    /// Forgets the history, as for a new stream (the corresponding C call is `OPUS_RESET_STATE`).
    public func reset() {
        _ = cv_opus_encoder_reset(state)
    }

    /// libopus's text for an error code (a static C string; nothing of the audio).
    static func describe(_ code: Int32) -> String {
        String(cString: opus_strerror(code))
    }
}
