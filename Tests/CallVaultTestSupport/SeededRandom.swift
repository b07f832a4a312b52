import Foundation

/// A reproducible random source (SplitMix64) for property tests and test noise: a failing seed fails
/// again. Not for anything secret.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// Uniform in (0, 1].
    public mutating func nextUnit() -> Double {
        Double((next() >> 11) + 1) / Double(1 << 53)
    }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = nextUnit()
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
