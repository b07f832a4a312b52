#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Filter design for ``Resampler``: one Kaiser-windowed sinc low-pass per rate pair, computed once
/// when a resampler is made (never on the per-frame path).
extension Resampler {
    /// Stop-band attenuation the Kaiser window is designed for (≥ 83 dB measured after rounding
    /// to Int16; see ``Resampler`` for the full specification).
    public static let designAttenuationDB = 80.0

    /// Pass-band edge as a fraction of the lower of the two rates: 3.5 kHz at 8 kHz, 7 kHz at 16 kHz.
    public static let passBandEdge = 0.4375

    /// Stop-band edge as a fraction of the lower rate: its Nyquist frequency, so nothing aliases
    /// back into the band when decimating (4 kHz at 8 kHz, 8 kHz at 16 kHz).
    public static let stopBandEdge = 0.5

    /// A linear-phase low-pass prototype at `inputRate · up`, as taps `h[0..<count]`.
    struct Design {
        /// Interpolation factor L (output/input after reducing the ratio).
        let up: Int
        /// Decimation factor M.
        let down: Int
        /// Taps of the prototype filter, symmetric around `center`.
        let taps: [Double]
        /// Group delay in prototype samples; a multiple of `up · down`, so the delay is a whole
        /// number of input samples and of output samples.
        let center: Int
    }

    /// Designs the prototype for `input → output`.
    ///
    /// Length from Kaiser's formula `N = (A − 7.95) / (2.285 · Δω) + 1`, β from
    /// `0.1102 · (A − 8.7)` (Oppenheim & Schafer, 3rd ed., §7.6). Gain `L` so every polyphase branch
    /// has unity DC gain.
    static func design(from input: SampleRate, to output: SampleRate) -> Design {
        let g = gcd(input.rawValue, output.rawValue)
        let up = output.rawValue / g
        let down = input.rawValue / g
        if up == 1 && down == 1 {
            return Design(up: 1, down: 1, taps: [1], center: 0)
        }
        let prototypeRate = Double(input.rawValue * up)
        let lowRate = Double(min(input.rawValue, output.rawValue))
        let transition = (stopBandEdge - passBandEdge) * lowRate
        let cutoff = (stopBandEdge + passBandEdge) / 2 * lowRate
        let attenuation = designAttenuationDB
        let beta = 0.1102 * (attenuation - 8.7)
        let deltaOmega = 2 * Double.pi * transition / prototypeRate
        let minimumLength = Int(((attenuation - 7.95) / (2.285 * deltaOmega)).rounded(.up)) + 1
        let step = up * down
        let center = ((minimumLength / 2) + step - 1) / step * step
        let count = 2 * center + 1
        let normalizedCutoff = 2 * cutoff / prototypeRate  // 1.0 = prototype Nyquist
        var taps = [Double](repeating: 0, count: count)
        let i0Beta = besselI0(beta)
        for k in 0..<count {
            let t = Double(k - center)
            let x = Double.pi * normalizedCutoff * t
            let sinc = t == 0 ? 1 : sin(x) / x
            let r = t / Double(center)
            let window = besselI0(beta * (1 - r * r).squareRoot()) / i0Beta
            taps[k] = normalizedCutoff * sinc * window
        }
        let sum = taps.reduce(0, +)
        for k in 0..<count { taps[k] *= Double(up) / sum }
        return Design(up: up, down: down, taps: taps, center: center)
    }

    /// Zeroth-order modified Bessel function of the first kind, by its power series.
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        let half = x / 2
        var k = 1.0
        while term > 1e-12 * sum {
            term *= (half / k) * (half / k)
            sum += term
            k += 1
        }
        return sum
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        b == 0 ? a : gcd(b, a % b)
    }
}
