import CallVaultTestSupport
import Foundation

/// Synthetic test signals: sines, DTMF pairs, silence and seeded noise, as 16-bit PCM.
///
/// Deterministic (noise comes from a fixed seed), so a failing test fails the same way again.
enum ToneGenerator {
    /// `count` samples of `amplitude · sin(2π f t + phase)`, rounded to Int16.
    static func sine(
        frequency: Double,
        amplitude: Double,
        sampleRate: Int,
        count: Int,
        phase: Double = 0
    ) -> [Int16] {
        (0..<count).map { n in
            clamp(amplitude * sin(2 * Double.pi * frequency * Double(n) / Double(sampleRate) + phase))
        }
    }

    /// A DTMF pair: the row (low) tone at `rowAmplitude` plus the column (high) tone at `columnAmplitude`.
    static func dualTone(
        low: Double,
        high: Double,
        rowAmplitude: Double,
        columnAmplitude: Double,
        sampleRate: Int,
        milliseconds: Int
    ) -> [Int16] {
        let count = sampleRate * milliseconds / 1000
        return (0..<count).map { n in
            let t = Double(n) / Double(sampleRate)
            return clamp(
                rowAmplitude * sin(2 * Double.pi * low * t) + columnAmplitude * sin(2 * Double.pi * high * t + 0.7)
            )
        }
    }

    /// Digital silence.
    static func silence(sampleRate: Int, milliseconds: Int) -> [Int16] {
        [Int16](repeating: 0, count: sampleRate * milliseconds / 1000)
    }

    /// Adds Gaussian white noise with RMS `rms` (seeded, reproducible).
    static func addingNoise(_ samples: [Int16], rms: Double, seed: UInt64) -> [Int16] {
        var noise = SeededRandom(seed: seed)
        return samples.map { clamp(Double($0) + rms * noise.nextGaussian()) }
    }

    /// The sine amplitude that has `dBm0` of power on a G.711 line (0 dBm0 = 3.17 dB below a full-scale sine).
    static func amplitude(dBm0: Double) -> Double {
        32_767 * pow(10, (dBm0 - 3.17) / 20)
    }

    static func clamp(_ x: Double) -> Int16 {
        Int16(max(-32_768, min(32_767, x.rounded())))
    }
}
