import Foundation

/// How much of a signal's energy is at one frequency (Goertzel), for telling which tone a recorded
/// track carries: a swapped label shows as the other stream's tone.
enum ToneAnalysis {
    /// The power of `hertz` in `samples` relative to the samples' total power (0…1 for a pure tone ≈ 0.5).
    static func share(of hertz: Double, in samples: ArraySlice<Int16>, rate: Double = 8000) -> Double {
        guard !samples.isEmpty else { return 0 }
        let k = 2 * cos(2 * .pi * hertz / rate)
        var s1 = 0.0
        var s2 = 0.0
        var total = 0.0
        for sample in samples {
            let x = Double(sample)
            let s0 = x + k * s1 - s2
            s2 = s1
            s1 = s0
            total += x * x
        }
        let power = s1 * s1 + s2 * s2 - k * s1 * s2
        guard total > 0 else { return 0 }
        return power / (total * Double(samples.count) / 2)
    }

    /// The root mean square level of `samples`.
    static func rms(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return 0 }
        return (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
    }
}
