import Foundation

/// Least-squares fit of one sinusoid of known frequency: the amplitude it has in a signal and what
/// is left over (noise, aliases, images, distortion). Exact for any length, whole periods or not.
struct ToneFit {
    let amplitude: Double
    let residualRMS: Double

    /// Signal-to-residual ratio in dB.
    var snrDB: Double { 20 * log10((amplitude / 2.squareRoot()) / max(residualRMS, 1e-9)) }

    init<C: Collection>(_ samples: C, frequency: Double, sampleRate: Int) where C.Element == Int16 {
        let y = samples.map(Double.init)
        let w = 2 * Double.pi * frequency / Double(sampleRate)
        var cc = 0.0, ss = 0.0, cs = 0.0, yc = 0.0, ys = 0.0
        for (n, v) in y.enumerated() {
            let c = cos(w * Double(n)), s = sin(w * Double(n))
            cc += c * c; ss += s * s; cs += c * s; yc += v * c; ys += v * s
        }
        let det = cc * ss - cs * cs
        let a = (yc * ss - ys * cs) / det
        let b = (ys * cc - yc * cs) / det
        amplitude = (a * a + b * b).squareRoot()
        var residual = 0.0
        for (n, v) in y.enumerated() {
            let e = v - a * cos(w * Double(n)) - b * sin(w * Double(n))
            residual += e * e
        }
        residualRMS = (residual / Double(max(y.count, 1))).squareRoot()
    }

    /// RMS of a signal.
    static func rms<C: Collection>(_ samples: C) -> Double where C.Element == Int16 {
        let sum = samples.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (sum / Double(max(samples.count, 1))).squareRoot()
    }
}
