import Foundation
import Testing

@testable import CallVaultAudio

/// The resampler must keep speech intact, keep everything above the new Nyquist out, and stream
/// frame by frame without seams.
@Suite struct ResamplerTests {
    static let directions: [(SampleRate, SampleRate)] = [
        (.hz8000, .hz16000), (.hz16000, .hz8000), (.hz8000, .hz48000),
        (.hz48000, .hz8000), (.hz16000, .hz48000), (.hz48000, .hz16000),
    ]

    /// Runs `signal` through a fresh resampler in blocks of `block` samples (the last may be shorter).
    static func stream(_ signal: [Int16], from: SampleRate, to: SampleRate, block: Int) -> [Int16] {
        let resampler = Resampler(from: from, to: to)
        var out: [Int16] = []
        var buffer = [Int16](repeating: 0, count: resampler.maxOutputCount(forInputCount: block))
        var start = 0
        while start < signal.count {
            let end = min(start + block, signal.count)
            let n = signal[start..<end].withUnsafeBufferPointer { input in
                buffer.withUnsafeMutableBufferPointer { resampler.process(input, into: $0) }
            }
            out.append(contentsOf: buffer[0..<n])
            start = end
        }
        return out
    }

    /// Output level of a tone relative to its input level, in dB, past the filter's start-up.
    static func gainDB(frequency: Double, from: SampleRate, to: SampleRate, amplitude: Double = 16_000) -> Double {
        let input = ToneGenerator.sine(
            frequency: frequency,
            amplitude: amplitude,
            sampleRate: from.rawValue,
            count: from.rawValue / 2
        )
        let output = stream(input, from: from, to: to, block: from.samplesPerFrame)
        let settled = output[(output.count / 4)...]
        return 20 * log10(ToneFit.rms(settled) / (amplitude / 2.squareRoot()))
    }

    @Test func twentyMillisecondFramesGiveExactlyOneFrame() {
        for (from, to) in Self.directions {
            let resampler = Resampler(from: from, to: to)
            var output = [Int16](repeating: 0, count: to.samplesPerFrame)
            let input = [Int16](repeating: 1000, count: from.samplesPerFrame)
            for _ in 0..<7 {
                #expect(resampler.outputCount(forInputCount: input.count) == to.samplesPerFrame)
                let written = input.withUnsafeBufferPointer { i in
                    output.withUnsafeMutableBufferPointer { resampler.process(i, into: $0) }
                }
                #expect(written == to.samplesPerFrame, "\(from) → \(to)")
            }
        }
    }

    /// State carries across calls: any block size gives the samples the whole signal gives, so
    /// frame boundaries leave no seam (a click would make these differ).
    @Test func blockSizeDoesNotChangeTheOutput() {
        for (from, to) in Self.directions {
            let signal = ToneGenerator.addingNoise(
                ToneGenerator.sine(
                    frequency: 440,
                    amplitude: 8000,
                    sampleRate: from.rawValue,
                    count: from.rawValue / 5
                ),
                rms: 2000,
                seed: 7
            )
            let whole = Self.stream(signal, from: from, to: to, block: signal.count)
            #expect(whole.count == signal.count * Resampler(from: from, to: to).up / Resampler(from: from, to: to).down)
            for block in [from.samplesPerFrame, 37, 113, 1] {
                #expect(
                    Self.stream(signal, from: from, to: to, block: block) == whole,
                    "\(from) → \(to), blocks of \(block)"
                )
            }
        }
    }

    /// No click at frame boundaries: a sine resampled frame by frame never steps further between
    /// two samples than the sine itself can (2π f / rate × amplitude), at a boundary or anywhere.
    @Test func frameBoundariesHaveNoClicks() {
        for (from, to) in Self.directions {
            let amplitude = 16_000.0
            let input = ToneGenerator.sine(
                frequency: 1000,
                amplitude: amplitude,
                sampleRate: from.rawValue,
                count: from.rawValue / 2
            )
            let output = Self.stream(input, from: from, to: to, block: from.samplesPerFrame)
            let limit = 2 * Double.pi * 1000 / Double(to.rawValue) * amplitude + 2
            var largest = 0.0
            for n in (output.count / 4)..<(output.count - 1) {
                largest = max(largest, abs(Double(output[n + 1]) - Double(output[n])))
            }
            #expect(largest <= limit, "\(from) → \(to): step \(largest) > \(limit)")
        }
    }

    @Test func oneKilohertzKeepsItsLevelInEveryDirection() {
        for (from, to) in Self.directions {
            let gain = Self.gainDB(frequency: 1000, from: from, to: to)
            #expect(abs(gain) < 0.05, "\(from) → \(to): 1 kHz gain \(gain) dB")
        }
    }

    /// Pass band: every telephone-band tone keeps its level within 0.05 dB (design ripple 0.001 dB).
    @Test func passBandIsFlat() {
        for (from, to) in Self.directions {
            let edge = 0.4375 * Double(min(from.rawValue, to.rawValue))
            for frequency in stride(from: 300.0, through: edge, by: 300) {
                let gain = Self.gainDB(frequency: frequency, from: from, to: to)
                #expect(abs(gain) < 0.05, "\(from) → \(to): \(frequency) Hz gain \(gain) dB")
            }
        }
    }

    /// Stop band, decimating: tones above the new Nyquist frequency would alias into the band.
    @Test func tonesAboveTheNewNyquistAreRemoved() {
        let cases: [(SampleRate, SampleRate, [Double])] = [
            (.hz16000, .hz8000, [4000, 4500, 5000, 6000, 7500]),
            (.hz48000, .hz8000, [4000, 6000, 11_000, 20_000]),
            (.hz48000, .hz16000, [8000, 9000, 12_000, 20_000]),
        ]
        for (from, to, frequencies) in cases {
            for frequency in frequencies {
                let gain = Self.gainDB(frequency: frequency, from: from, to: to)
                #expect(gain < -79, "\(from) → \(to): \(frequency) Hz only \(-gain) dB down")
            }
        }
    }

    /// Stop band, interpolating: the images of a 1 kHz tone (7 kHz, 9 kHz, …) are removed, so
    /// what is left beside the tone is rounding noise.
    @Test func upsamplingLeavesNoImages() {
        for (from, to) in Self.directions where to.rawValue > from.rawValue {
            let input = ToneGenerator.sine(
                frequency: 1000,
                amplitude: 16_000,
                sampleRate: from.rawValue,
                count: from.rawValue / 2
            )
            let output = Self.stream(input, from: from, to: to, block: from.samplesPerFrame)
            let fit = ToneFit(output[(output.count / 4)...], frequency: 1000, sampleRate: to.rawValue)
            #expect(fit.snrDB > 79, "\(from) → \(to): images only \(fit.snrDB) dB below the tone")
        }
    }

    @Test func roundTripSixteenToEightToSixteenKeepsAOneKilohertzTone() {
        let input = ToneGenerator.sine(frequency: 1000, amplitude: 16_000, sampleRate: 16_000, count: 16_000)
        let down = Self.stream(input, from: .hz16000, to: .hz8000, block: 320)
        let back = Self.stream(down, from: .hz8000, to: .hz16000, block: 160)
        let fit = ToneFit(back[4000...], frequency: 1000, sampleRate: 16_000)
        #expect(abs(20 * log10(fit.amplitude / 16_000)) < 0.05)
        #expect(fit.snrDB > 75, "round trip SNR \(fit.snrDB) dB")
    }

    /// `resample` removes the documented delay: its output lines up with the input in time.
    @Test func wholeBufferConversionIsDelayCompensated() {
        for (from, to) in Self.directions {
            let input = ToneGenerator.sine(
                frequency: 700,
                amplitude: 12_000,
                sampleRate: from.rawValue,
                count: from.rawValue / 4
            )
            let output = Resampler.resample(input, from: from, to: to)
            let expectedCount = input.count * to.rawValue / from.rawValue
            #expect(output.count == expectedCount)
            let ideal = ToneGenerator.sine(
                frequency: 700,
                amplitude: 12_000,
                sampleRate: to.rawValue,
                count: expectedCount
            )
            let middle = (expectedCount / 4)..<(3 * expectedCount / 4)
            let error = zip(output[middle], ideal[middle]).map { Int($0) - Int($1) }.map(abs).max() ?? .max
            #expect(error <= 3, "\(from) → \(to): off by \(error) after delay compensation")
        }
    }

    @Test func delayIsWhatTheDocumentationSays() {
        for (from, to) in Self.directions {
            let resampler = Resampler(from: from, to: to)
            let ms = Double(resampler.delay) * 1000 / Double(to.rawValue)
            let lowest = min(from.rawValue, to.rawValue)
            #expect(ms >= 2.5 && ms <= (lowest == 8000 ? 5.2 : 2.7), "\(from) → \(to): \(ms) ms")
        }
    }

    @Test func sameRateIsACopy() {
        let resampler = Resampler(from: .hz16000, to: .hz16000)
        let input = ToneGenerator.addingNoise(
            ToneGenerator.silence(sampleRate: 16_000, milliseconds: 20),
            rms: 5000,
            seed: 3
        )
        var output = [Int16](repeating: 0, count: input.count)
        let n = input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { resampler.process(i, into: $0) }
        }
        #expect(n == input.count)
        #expect(output == input)
        #expect(resampler.delay == 0)
    }
}
