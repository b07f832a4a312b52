internal import CSpanDSP

/// ITU-T G.722 decoder at 64 kbit/s (mode 1: sub-band ADPCM and the QMF synthesis), 16 kHz out.
///
/// spandsp's implementation (bit-exact to the ITU test vectors, Debian `libspandsp-dev`): one byte
/// in gives two 16 kHz samples out. This class owns the C state; one per stream, as the ADPCM
/// predictors carry state from packet to packet. The corresponding C function is `g722_decode`.
public final class G722Decoder {
    let state: OpaquePointer

    public init() {
        // 64000 bit/s, 16 kHz output (no G722_SAMPLE_RATE_8000), unpacked bytes.
        guard let state = g722_decode_init(nil, 64_000, 0) else {
            fatalError("g722_decode_init failed to allocate its state")
        }
        self.state = state
    }

    deinit {
        g722_decode_free(state)
    }

    /// Decodes `payload` (one code per byte) into `samples`, which must hold `2 * payload.count`;
    /// returns the number of samples written.
    public func decode(_ payload: UnsafeRawBufferPointer, into samples: UnsafeMutableBufferPointer<Int16>) -> Int {
        let count = min(payload.count, samples.count / 2)
        guard count > 0, let input = payload.baseAddress, let output = samples.baseAddress else { return 0 }
        return Int(g722_decode(state, output, input.assumingMemoryBound(to: UInt8.self), Int32(count)))
    }

    /// Restarts the ADPCM state (a new source: its predictor history is unrelated).
    public func reset() {
        g722_decode_init(state, 64_000, 0)
    }
}
