import Foundation
import Testing

@testable import CallVaultAudio

/// Keypad consent depends on these: every real key press found exactly once, nothing else ever.
@Suite struct DTMFDetectorTests {
    static let level = ToneGenerator.amplitude(dBm0: -10)

    /// `ms` of the key's two tones, with the given per-tone levels in dBm0.
    static func tone(
        _ digit: DTMFDigit,
        ms: Int,
        rate: SampleRate = .hz8000,
        rowDBm0: Double = -10,
        columnDBm0: Double = -10
    ) -> [Int16] {
        ToneGenerator.dualTone(
            low: DTMFDigit.rowFrequencies[digit.row],
            high: DTMFDigit.columnFrequencies[digit.column],
            rowAmplitude: ToneGenerator.amplitude(dBm0: rowDBm0),
            columnAmplitude: ToneGenerator.amplitude(dBm0: columnDBm0),
            sampleRate: rate.rawValue,
            milliseconds: ms
        )
    }

    static func silence(_ ms: Int, rate: SampleRate = .hz8000) -> [Int16] {
        ToneGenerator.silence(sampleRate: rate.rawValue, milliseconds: ms)
    }

    /// Feeds `samples` (then 200 ms of silence) in blocks and collects every reported key.
    static func detect(_ samples: [Int16], rate: SampleRate = .hz8000, block: Int? = nil) throws -> String {
        var detector = try DTMFDetector(sampleRate: rate)
        let all = samples + silence(200, rate: rate)
        let size = block ?? rate.samplesPerFrame
        var keys = ""
        var start = 0
        while start < all.count {
            let end = min(start + size, all.count)
            if let key = all[start..<end].withUnsafeBufferPointer({ detector.process($0) }) {
                keys.append(key.rawValue)
            }
            start = end
        }
        while let key = detector.process(UnsafeBufferPointer(start: nil, count: 0)) { keys.append(key.rawValue) }
        return keys
    }

    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func everyKeyIsFoundExactlyOnce(rate: SampleRate) throws {
        for digit in DTMFDigit.allCases {
            let signal =
                Self.silence(100, rate: rate) + Self.tone(digit, ms: 100, rate: rate) + Self.silence(100, rate: rate)
            #expect(try Self.detect(signal, rate: rate) == String(digit.rawValue), "key \(digit) at \(rate)")
        }
    }

    /// Q.24: 40 ms must count. Every alignment of the tone to the analysis grid is tried.
    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func fortyMillisecondToneIsFoundAtEveryAlignment(rate: SampleRate) throws {
        let hop = rate.rawValue / 400
        for offset in 0..<hop {
            let signal =
                Self.silence(50, rate: rate) + [Int16](repeating: 0, count: offset)
                + Self.tone(.five, ms: 40, rate: rate)
            #expect(try Self.detect(signal, rate: rate) == "5", "offset \(offset) at \(rate)")
        }
    }

    /// Shorter than Q.24's minimum: a 30 ms tone is never a key press, at any alignment.
    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func thirtyMillisecondToneIsNeverFound(rate: SampleRate) throws {
        let hop = rate.rawValue / 400
        for offset in 0..<hop {
            for digit in [DTMFDigit.one, .zero, .d] {
                let signal =
                    Self.silence(50, rate: rate) + [Int16](repeating: 0, count: offset)
                    + Self.tone(digit, ms: 30, rate: rate)
                #expect(try Self.detect(signal, rate: rate) == "", "offset \(offset), key \(digit) at \(rate)")
            }
        }
    }

    @Test func fastDialledSequenceComesOutExactly() throws {
        var signal = Self.silence(60)
        for digit in [DTMFDigit.one, .two, .three, .four, .pound] {
            signal += Self.tone(digit, ms: 50) + Self.silence(50)
        }
        #expect(try Self.detect(signal) == "1234#")
        // Block size does not matter: 1 sample, odd sizes, one big block.
        for block in [1, 37, 333, signal.count] {
            #expect(try Self.detect(signal, block: block) == "1234#", "blocks of \(block)")
        }
    }

    @Test func sameKeyTwiceWithAFortyMillisecondPauseIsTwoPresses() throws {
        let signal = Self.tone(.seven, ms: 60) + Self.silence(40) + Self.tone(.seven, ms: 60)
        #expect(try Self.detect(signal) == "77")
    }

    @Test func shortInterruptionDoesNotSplitAPress() throws {
        // A dropout: the line loses `gap` ms of one continuous key press.
        for gap in [5, 10, 15, 20, 23] {
            var signal = Self.tone(.nine, ms: 200 + gap)
            for i in 800..<(800 + gap * 8) { signal[i] = 0 }
            let found = try Self.detect(signal)
            #expect(found == "9", "\(gap) ms dropout gave \(found)")
        }
        // A 40 ms loss of the same press is a pause (Q.24): two presses.
        var paused = Self.tone(.nine, ms: 240)
        for i in 800..<1120 { paused[i] = 0 }
        #expect(try Self.detect(paused) == "99")
    }

    @Test func twistWithinLimitsIsAccepted() throws {
        // Normal twist: column 6 dB weaker; reverse twist: column 3 dB stronger.
        #expect(try Self.detect(Self.tone(.eight, ms: 80, rowDBm0: -8, columnDBm0: -14)) == "8")
        #expect(try Self.detect(Self.tone(.eight, ms: 80, rowDBm0: -12, columnDBm0: -9)) == "8")
    }

    @Test func twistBeyondLimitsIsRejected() throws {
        // Normal twist 10 dB (> 8), reverse twist 6 dB (> 4).
        #expect(try Self.detect(Self.tone(.eight, ms: 80, rowDBm0: -6, columnDBm0: -16)) == "")
        #expect(try Self.detect(Self.tone(.eight, ms: 80, rowDBm0: -14, columnDBm0: -8)) == "")
    }

    @Test func tooQuietTonesAreIgnoredAndQuietOnesFound() throws {
        #expect(try Self.detect(Self.tone(.two, ms: 80, rowDBm0: -36, columnDBm0: -36)) == "")
        #expect(try Self.detect(Self.tone(.two, ms: 80, rowDBm0: -25, columnDBm0: -25)) == "2")
    }

    /// Q.24 frequency tolerance: keys off by ±1.5 % must count, keys off by ±3.5 % must not.
    @Test func frequencyToleranceFollowsQ24() throws {
        for digit in DTMFDigit.allCases {
            for (deviation, expected) in [
                (0.015, String(digit.rawValue)), (-0.015, String(digit.rawValue)), (0.035, ""), (-0.035, ""),
            ] {
                let signal = ToneGenerator.dualTone(
                    low: DTMFDigit.rowFrequencies[digit.row] * (1 + deviation),
                    high: DTMFDigit.columnFrequencies[digit.column] * (1 + deviation),
                    rowAmplitude: Self.level,
                    columnAmplitude: Self.level,
                    sampleRate: 8000,
                    milliseconds: 100
                )
                #expect(try Self.detect(signal) == expected, "key \(digit) off by \(deviation * 100) %")
            }
        }
    }

    /// A single tone (one group only) is not a key.
    @Test func singleToneIsNotAKey() throws {
        let single = ToneGenerator.sine(frequency: 1336, amplitude: Self.level, sampleRate: 8000, count: 1600)
        #expect(try Self.detect(single) == "")
    }

    /// White noise only 10 dB below the key's two tones: every key is still found once.
    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func keysAreFoundInNoise(rate: SampleRate) throws {
        let toneRMS = Self.level  // two tones of amplitude A: total mean square A²
        for (i, digit) in DTMFDigit.allCases.enumerated() {
            let clean =
                Self.silence(100, rate: rate) + Self.tone(digit, ms: 80, rate: rate) + Self.silence(100, rate: rate)
            let noisy = ToneGenerator.addingNoise(clean, rms: toneRMS * pow(10, -10.0 / 20), seed: UInt64(i + 1))
            #expect(try Self.detect(noisy, rate: rate) == String(digit.rawValue), "key \(digit) in noise at \(rate)")
        }
    }

    /// Noise alone never makes a key.
    @Test func noiseAloneFindsNothing() throws {
        let noise = ToneGenerator.addingNoise(Self.silence(10_000), rms: 3000, seed: 99)
        #expect(try Self.detect(noise) == "")
    }

    static let sentences = [
        "Thank you for calling. This call may be recorded for quality and training purposes.",
        "To agree to the recording, please press one. To continue without recording, press two.",
        "Your account number is four five six, seven eight nine, and your balance is zero.",
        "I would like to change my delivery address to twelve Oak Street, apartment three B.",
        "Hello? Hello! Can you hear me? I said I want to speak to a real person, please.",
        "The quick brown fox jumps over the lazy dog while the choir sings a long high note.",
        "Mmmm, hmm, yes, yes, okay, ahhh, I see, ooh, eeee, that is wonderful news indeed.",
    ]
    static let voices: [(voice: String, pitch: Int, speed: Int)] = [
        ("en-us", 50, 175), ("en+f3", 70, 160), ("en-gb+m3", 30, 190), ("en-us+f5", 90, 150), ("en+m7", 10, 170),
    ]
    static let espeakMissing = "espeak-ng and sox are needed to synthesize speech (apt-get install espeak-ng sox)"

    /// Speech must never be taken for a key: over a minute of synthetic speech (five voices,
    /// pitches from low to high, sentences with digits, vowels held long, hums) gives no key at all.
    @Test(
        .enabled(if: SpeechSynthesizer.isAvailable, Comment(rawValue: espeakMissing)),
        arguments: [SampleRate.hz8000, .hz16000]
    )
    func speechNeverTriggersAKey(rate: SampleRate) throws {
        var speech: [Int16] = []
        for (i, sentence) in Self.sentences.enumerated() {
            for (j, v) in Self.voices.enumerated() where (i + j) % 2 == 0 || j == 0 {
                speech += try SpeechSynthesizer.speak(
                    sentence,
                    voice: v.voice,
                    pitch: v.pitch,
                    wordsPerMinute: v.speed,
                    sampleRate: rate.rawValue
                )
            }
        }
        let seconds = Double(speech.count) / Double(rate.rawValue)
        #expect(seconds >= 20, "only \(seconds) s of speech")
        #expect(try Self.detect(speech, rate: rate) == "", "false keys in \(seconds) s of speech")
        // Louder (+6 dB, clipped like a hot line) still gives nothing.
        let loud = speech.map { ToneGenerator.clamp(Double($0) * 2) }
        #expect(try Self.detect(loud, rate: rate) == "")
    }

    /// The detector still finds a key pressed while the caller talks over it (speech 15 dB down).
    @Test(.enabled(if: SpeechSynthesizer.isAvailable, Comment(rawValue: espeakMissing)))
    func keyOverQuietSpeechIsFound() throws {
        let speech = try SpeechSynthesizer.speak(Self.sentences[0], voice: "en-us", pitch: 50, sampleRate: 8000)
        let speechRMS = ToneFit.rms(speech.filter { $0 != 0 })
        let scale = Self.level * pow(10, -15.0 / 20) / max(speechRMS, 1)
        var mixed = speech.map { Double($0) * scale }
        let key = Self.tone(.six, ms: 100)
        let start = 8000
        for (i, s) in key.enumerated() { mixed[start + i] += Double(s) }
        let found = try Self.detect(mixed.map(ToneGenerator.clamp))
        #expect(found == "6", "found \(found)")
    }

    /// `reset` forgets a press in progress: 30 ms before and 30 ms after a reset are two short
    /// tones, not one 60 ms key; without the reset the same samples are a key.
    @Test func resetForgetsAPressInProgress() throws {
        let tone = Self.tone(.three, ms: 60)
        var detector = try DTMFDetector(sampleRate: .hz8000)
        var keys = ""
        let halves = [Array(tone[0..<240]), Array(tone[240...]) + Self.silence(100)]
        for (i, half) in halves.enumerated() {
            if i == 1 { detector.reset() }
            if let key = half.withUnsafeBufferPointer({ detector.process($0) }) { keys.append(key.rawValue) }
        }
        #expect(keys == "")
        #expect(try Self.detect(tone) == "3")
    }

    @Test func fortyEightKilohertzIsRefusedWithAReason() {
        do {
            _ = try DTMFDetector(sampleRate: .hz48000)
            Issue.record("48 kHz was accepted")
        } catch {
            #expect(error.code == .unsupportedSampleRate)
            #expect(error.message.contains("48000"))
        }
    }

    @Test func keypadLayoutMatchesQ23() {
        #expect(DTMFDigit(row: 0, column: 0) == .one)
        #expect(DTMFDigit(row: 3, column: 1) == .zero)
        #expect(DTMFDigit(row: 3, column: 2) == .pound)
        #expect(DTMFDigit(row: 2, column: 3) == .c)
        for digit in DTMFDigit.allCases {
            #expect(DTMFDigit(row: digit.row, column: digit.column) == digit)
        }
    }
}
