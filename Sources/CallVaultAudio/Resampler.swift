/// Streaming sample-rate converter between 8, 16 and 48 kHz (all six directions), for one track.
///
/// Calls arrive at 8 kHz (G.711, slin) or 16 kHz (L16), Opus runs at 48 kHz and transcription
/// engines want 16 kHz, so audio crosses these rates on the hot path. A polyphase FIR does the
/// conversion by the reduced ratio L/M (up by L, low-pass, down by M) and computes only the
/// outputs it keeps. The filter's history stays in the resampler between calls, so consecutive
/// 20 ms frames give one continuous signal: no click or gap at frame boundaries.
///
/// **Filter** (designed once in `init`, see `Resampler+Design.swift`): Kaiser-windowed sinc,
/// linear phase, designed for 80 dB; pass band to 0.4375 × the lower rate (3.5 kHz when 8 kHz is
/// involved, 7 kHz for 16 ↔ 48 kHz), stop band from the lower rate's Nyquist frequency (4 / 8 kHz).
/// - Stop-band attenuation: ≥ 83 dB measured after Int16 rounding (tones swept every 97 Hz from
///   the stop-band edge to the input's Nyquist frequency); `ResamplerTests` requires > 79 dB for
///   tones from 4 to 20 kHz when decimating and for the images when interpolating.
/// - Pass-band ripple: 0.001 dB designed (Kaiser δ = 10⁻⁴), ≤ 0.013 dB measured with tones from
///   100 Hz to the pass-band edge (measurement noise included); tests require < 0.05 dB.
/// - Delay: the filter is symmetric, so the delay is exactly ``delay`` output samples — 5.1 ms
///   for every direction involving 8 kHz and 2.6 ms for 16 ↔ 48 kHz — and a whole number of both
///   input and output samples. ``resample(_:from:to:)`` removes it for whole buffers.
/// - Cost per output sample: ``tapsPerPhase`` multiply-adds (Float SIMD), 88 for 8 → 48 kHz,
///   496 for 48 → 8 kHz.
///
/// `process(_:into:)` never allocates: coefficients, history and work space are allocated in
/// `init`. One resampler belongs to one track and is used from one thread at a time.
public final class Resampler {
    public let inputRate: SampleRate
    public let outputRate: SampleRate
    /// Interpolation factor L of the reduced ratio L/M = output/input.
    public let up: Int
    /// Decimation factor M.
    public let down: Int
    /// Multiply-adds per output sample (taps of one polyphase branch, padded to a multiple of 8).
    public let tapsPerPhase: Int
    /// Output samples between an input event and the same event in the output.
    public let delay: Int

    /// Branch `p` holds its taps in reverse at `coefficients[p * tapsPerPhase ..< (p + 1) * tapsPerPhase]`,
    /// so each output is a contiguous dot product with the history.
    private let coefficients: UnsafeMutableBufferPointer<Float>
    /// `tapsPerPhase − 1` samples of history followed by room for one chunk of new input.
    private let work: UnsafeMutableBufferPointer<Float>
    /// How many input samples one pass over `work` takes (20 ms at the input rate).
    private let chunk: Int
    /// Position of the next output on the prototype (input × L) time line, relative to the
    /// first new sample of the current chunk.
    private var position = 0

    /// Makes a resampler; designs its filter (allocates once, here).
    public init(from inputRate: SampleRate, to outputRate: SampleRate) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        let design = Self.design(from: inputRate, to: outputRate)
        up = design.up
        down = design.down
        delay = design.center / design.down
        let branchTaps = (design.taps.count + design.up - 1) / design.up
        tapsPerPhase = (branchTaps + 7) / 8 * 8
        coefficients = .allocate(capacity: tapsPerPhase * up)
        coefficients.initialize(repeating: 0)
        for p in 0..<up {
            for j in 0..<branchTaps where p + j * up < design.taps.count {
                coefficients[p * tapsPerPhase + tapsPerPhase - 1 - j] = Float(design.taps[p + j * up])
            }
        }
        chunk = inputRate.samplesPerFrame
        work = .allocate(capacity: tapsPerPhase - 1 + chunk)
        work.initialize(repeating: 0)
    }

    deinit {
        coefficients.deallocate()
        work.deallocate()
    }

    /// The most output samples `process` can write for `inputCount` input samples, whatever the state.
    public func maxOutputCount(forInputCount inputCount: Int) -> Int {
        (inputCount * up + down - 1) / down
    }

    /// Exactly how many samples the next `process` call writes for `inputCount` input samples.
    ///
    /// For whole 20 ms frames this is always one 20 ms frame at the output rate, so a
    /// ``FrameRing`` slot of the output rate is a big enough output buffer.
    public func outputCount(forInputCount inputCount: Int) -> Int {
        let span = inputCount * up - position
        return span <= 0 ? 0 : (span + down - 1) / down
    }

    /// Forgets the history, as if the track started again (the next output starts a new signal).
    public func reset() {
        for i in 0..<work.count { work[i] = 0 }
        position = 0
    }

    /// Converts `input` and writes the resulting samples to the front of `output`.
    ///
    /// Any input length works; state carries over to the next call, so a stream cut into blocks
    /// gives the same samples as the stream in one piece.
    /// - Precondition: `output.count >= outputCount(forInputCount: input.count)` (a too-small
    ///   buffer is a programming error, not bad input, so it stops the process rather than drop audio).
    /// - Returns: how many samples were written.
    public func process(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        precondition(
            output.count >= outputCount(forInputCount: input.count),
            "Resampler output buffer too small: size it with outputCount(forInputCount:)"
        )
        guard input.count > 0, let coefficientBase = coefficients.baseAddress, let workBase = work.baseAddress,
            let outBase = output.baseAddress
        else { return 0 }
        let history = tapsPerPhase - 1
        var written = 0
        var consumed = 0
        while consumed < input.count {
            let n = min(chunk, input.count - consumed)
            for t in 0..<n { workBase[history + t] = Float(input[consumed + t]) }
            // Outputs whose newest input sample, floor(position / L), is in this chunk.
            while position < n * up {
                let newest = position / up
                let phase = position - newest * up
                let taps = UnsafeRawPointer(coefficientBase + phase * tapsPerPhase)
                let samples = UnsafeRawPointer(workBase + newest)
                var acc = SIMD8<Float>()
                var offset = 0
                let bytes = tapsPerPhase * MemoryLayout<Float>.stride
                while offset < bytes {
                    acc +=
                        taps.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        * samples.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    offset += 8 * MemoryLayout<Float>.stride
                }
                let y = acc.sum().rounded()
                outBase[written] = Int16(max(-32_768, min(32_767, y)))
                written += 1
                position += down
            }
            position -= n * up
            // Keep the newest `history` samples at the front for the next chunk.
            (workBase).update(from: workBase + n, count: history)
            consumed += n
        }
        return written
    }

    /// Converts a whole buffer with the delay removed: sample i of the output lines up with
    /// time i / outputRate of the input, and the output has `count · L / M` samples (rounded up).
    ///
    /// Allocates; meant for files and tests, not for the per-frame path.
    public static func resample(_ samples: [Int16], from inputRate: SampleRate, to outputRate: SampleRate) -> [Int16] {
        let resampler = Resampler(from: inputRate, to: outputRate)
        let wanted = (samples.count * resampler.up + resampler.down - 1) / resampler.down
        var result = [Int16](repeating: 0, count: resampler.delay + wanted + 1)
        var produced = 0
        samples.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { out in
                produced = resampler.process(input, into: UnsafeMutableBufferPointer(rebasing: out[0...]))
            }
        }
        let zeros = [Int16](repeating: 0, count: inputRate.samplesPerFrame)
        while produced < resampler.delay + wanted {
            let needed = resampler.outputCount(forInputCount: zeros.count)
            if result.count < produced + needed {
                result.append(contentsOf: repeatElement(0, count: produced + needed - result.count))
            }
            zeros.withUnsafeBufferPointer { input in
                result.withUnsafeMutableBufferPointer { out in
                    produced += resampler.process(input, into: UnsafeMutableBufferPointer(rebasing: out[produced...]))
                }
            }
        }
        return Array(result[resampler.delay..<(resampler.delay + wanted)])
    }
}
