import COpus

/// Encodes 20 ms PCM16 frames to Opus (VOIP application), one encoder state per track, created once.
///
/// `encode` writes into a caller-provided buffer and allocates nothing. libopus at 8 kHz,
/// complexity 5 encodes ~21,000 frames/s per core here: ~420 live calls per core. Lower complexity
/// buys capacity at some quality.
public final class OpusEncoder {
    public let sampleRate: SampleRate
    public let bitrate: Int
    public let complexity: Int
    private let state: OpaquePointer

    /// The largest packet `encode` writes (RFC 6716 caps a frame's packet at 1275 bytes).
    public static let maximumPacketBytes = 1275

    /// - Parameters:
    ///   - bitrate: bits per second (6,000...510,000); 16 kb/s is good telephone speech.
    ///   - complexity: 0 (fastest) ... 10 (best).
    public init(sampleRate: SampleRate, bitrate: Int = 16_000, complexity: Int = 5) throws(AudioError) {
        guard (6_000...510_000).contains(bitrate) else {
            throw AudioError(.codecFailure, "Opus bitrate must be 6000...510000 b/s, not \(bitrate)")
        }
        guard (0...10).contains(complexity) else {
            throw AudioError(.codecFailure, "Opus complexity must be 0...10, not \(complexity)")
        }
        var error: Int32 = 0
        guard let state = opus_encoder_create(Int32(sampleRate.rawValue), 1, OPUS_APPLICATION_VOIP, &error), error == OPUS_OK
        else {
            throw AudioError(.codecFailure, "cannot create an Opus encoder at \(sampleRate): \(Self.describe(error))")
        }
        self.state = state
        self.sampleRate = sampleRate
        self.bitrate = bitrate
        self.complexity = complexity
        guard cv_opus_set_bitrate(state, Int32(bitrate)) == OPUS_OK, cv_opus_set_complexity(state, Int32(complexity)) == OPUS_OK,
            cv_opus_set_signal_voice(state) == OPUS_OK
        else {
            opus_encoder_destroy(state)
            throw AudioError(.codecFailure, "cannot configure the Opus encoder (bitrate \(bitrate), complexity \(complexity))")
        }
    }

    deinit { opus_encoder_destroy(state) }

    /// Encodes one 20 ms frame; returns the packet's length in `packet`.
    public func encode(_ samples: UnsafeBufferPointer<Int16>, into packet: UnsafeMutableRawBufferPointer) throws(AudioError)
        -> Int
    {
        guard samples.count == sampleRate.samplesPerFrame else {
            throw AudioError(.wrongFrameLength, "an Opus frame at \(sampleRate) has \(sampleRate.samplesPerFrame) samples, not \(samples.count)")
        }
        guard let input = samples.baseAddress, let output = packet.baseAddress, packet.count > 0 else {
            throw AudioError(.codecFailure, "no room for an Opus packet")
        }
        let written = opus_encode(
            state, input, Int32(samples.count), output.assumingMemoryBound(to: UInt8.self), Int32(packet.count))
        guard written > 0 else {
            throw AudioError(.codecFailure, "Opus encode failed: \(Self.describe(written))")
        }
        return Int(written)
    }

    static func describe(_ code: Int32) -> String {
        String(cString: opus_strerror(code))
    }
}
