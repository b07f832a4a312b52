import COpus

/// Decodes Opus packets to 20 ms PCM16 frames, one decoder state per track, created once; conceals
/// a missing frame (packet loss concealment) so the timeline keeps its length.
public final class OpusDecoder {
    public let sampleRate: SampleRate
    private let state: OpaquePointer

    public init(sampleRate: SampleRate) throws(AudioError) {
        var error: Int32 = 0
        guard let state = opus_decoder_create(Int32(sampleRate.rawValue), 1, &error), error == OPUS_OK else {
            throw AudioError(.codecFailure, "cannot create an Opus decoder at \(sampleRate): \(OpusEncoder.describe(error))")
        }
        self.state = state
        self.sampleRate = sampleRate
    }

    deinit { opus_decoder_destroy(state) }

    /// Decodes one packet into `samples` (one 20 ms frame); a corrupt packet throws `invalidOpusPacket`.
    public func decode(_ packet: UnsafeRawBufferPointer, into samples: UnsafeMutableBufferPointer<Int16>) throws(AudioError) {
        guard !packet.isEmpty else {
            throw AudioError(.invalidOpusPacket, "an empty Opus packet (a missing frame is concealed with decodeMissing)")
        }
        try run(packet.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(packet.count), samples)
    }

    /// Fills `samples` with loss concealment for a frame that never arrived.
    public func decodeMissing(into samples: UnsafeMutableBufferPointer<Int16>) throws(AudioError) {
        try run(nil, 0, samples)
    }

    private func run(_ data: UnsafePointer<UInt8>?, _ length: Int32, _ samples: UnsafeMutableBufferPointer<Int16>)
        throws(AudioError)
    {
        guard samples.count == sampleRate.samplesPerFrame else {
            throw AudioError(.wrongFrameLength, "an Opus frame at \(sampleRate) has \(sampleRate.samplesPerFrame) samples, not \(samples.count)")
        }
        let decoded = opus_decode(state, data, length, samples.baseAddress!, Int32(samples.count), 0)
        guard decoded == Int32(samples.count) else {
            throw AudioError(
                .invalidOpusPacket,
                decoded < 0
                    ? "Opus packet of \(length) bytes rejected: \(OpusEncoder.describe(decoded))"
                    : "Opus packet of \(length) bytes holds \(decoded) samples, not one 20 ms frame")
        }
    }
}
