import CallVaultTestSupport
import Testing

@testable import CallVaultAudio

/// The detector skips the filters for windows too quiet to hold a tone. That must be a shortcut only:
/// the keys found, and when, are the same as with every window analysed.
@Suite struct DTMFQuietWindowTests {
    typealias Tones = DTMFDetectorTests

    /// Every key (with its frame) the detector reports for `samples` in 20 ms frames.
    static func keys(_ samples: [Int16], rate: SampleRate, skipping: Bool) throws -> (keys: [String], quiet: Int) {
        var detector = try DTMFDetector(sampleRate: rate)
        detector.skipsQuietWindows = skipping
        var keys: [String] = []
        let size = rate.samplesPerFrame
        var start = 0
        while start < samples.count {
            let end = min(start + size, samples.count)
            if let key = samples[start..<end].withUnsafeBufferPointer({ detector.process($0) }) {
                keys.append("\(key.rawValue)@\(start / size)")
            }
            start = end
        }
        return (keys, detector.quietWindows)
    }

    /// Seeded audio of every kind the caller's track carries: keys at many levels (around the minimum
    /// too), presses cut by dropouts of silence, line noise, loud noise, digital silence.
    static func mixedAudio(rate: SampleRate, seed: UInt64) -> [Int16] {
        var random = SeededRandom(seed: seed)
        var samples: [Int16] = []
        for _ in 0..<40 {
            let digit = DTMFDigit.allCases.randomElement(using: &random)!
            switch Int.random(in: 0..<6, using: &random) {
            case 0: samples += Tones.silence(Int.random(in: 5...300, using: &random), rate: rate)
            case 1:
                samples += ToneGenerator.addingNoise(
                    Tones.silence(Int.random(in: 20...400, using: &random), rate: rate),
                    rms: [3, 30, 150, 400, 1_500][Int.random(in: 0..<5, using: &random)], seed: random.next())
            case 2:
                let level = Double.random(in: -40 ... -5, using: &random)
                samples += Tones.tone(digit, ms: Int.random(in: 25...120, using: &random), rate: rate, rowDBm0: level, columnDBm0: level)
            case 3:
                // A press with a dropout of silence inside it (bridged when short).
                samples += Tones.tone(digit, ms: 50, rate: rate)
                samples += Tones.silence(Int.random(in: 5...40, using: &random), rate: rate)
                samples += Tones.tone(digit, ms: 50, rate: rate)
            case 4:
                samples += ToneGenerator.addingNoise(
                    Tones.tone(digit, ms: 80, rate: rate, rowDBm0: -28, columnDBm0: -28), rms: 60, seed: random.next())
            default:
                samples += Tones.silence(Int.random(in: 40...200, using: &random), rate: rate)
            }
        }
        return samples + Tones.silence(200, rate: rate)
    }

    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func skippingQuietWindowsFindsTheSameKeysAtTheSameFrames(rate: SampleRate) throws {
        var skippedSomewhere = false
        for seed in UInt64(1)...3 {
            let audio = Self.mixedAudio(rate: rate, seed: seed)
            let analysed = try Self.keys(audio, rate: rate, skipping: false)
            let skipping = try Self.keys(audio, rate: rate, skipping: true)
            #expect(skipping.keys == analysed.keys, "seed \(seed)")
            #expect(analysed.quiet == 0)
            #expect(!analysed.keys.isEmpty, "seed \(seed): the audio has keys to find")
            skippedSomewhere = skippedSomewhere || skipping.quiet > 0
        }
        #expect(skippedSomewhere)
    }

    @Test func silenceAndLineNoiseSkipTheFiltersAndSoundDoesNot() throws {
        let frames = 50  // one second
        let silence = Tones.silence(20 * frames)
        #expect(try Self.keys(silence, rate: .hz8000, skipping: true).quiet == 8 * frames, "every window of digital silence")
        let lineNoise = ToneGenerator.addingNoise(silence, rms: 30, seed: 7)  // about −60 dBm0
        #expect(try Self.keys(lineNoise, rate: .hz8000, skipping: true).quiet == 8 * frames)
        let loud = ToneGenerator.addingNoise(silence, rms: 3_000, seed: 8)
        #expect(try Self.keys(loud, rate: .hz8000, skipping: true).quiet == 0, "sound is always analysed")
        // A quiet key (−28 dBm0 each tone, just above the −30 minimum) is loud enough to be analysed, and found.
        let quietKey = Tones.tone(.five, ms: 80, rowDBm0: -28, columnDBm0: -28) + Tones.silence(200)
        #expect(try Self.keys(quietKey, rate: .hz8000, skipping: true).keys.map { $0.prefix(1) } == ["5"])
    }
}
