import CallVaultRedaction
import Testing

/// Seeded random calls from a vocabulary that hits every rule at once: the detector must not trap,
/// spans must be well-formed, placeholders must stand only for their own track's words.
@Suite struct RobustnessTests {
    /// A fixed-seed generator (SplitMix64), so a failure is reproducible from the iteration number.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let vocabulary = [
        "four", "one", "double", "triple", "oh", "eleven", "twenty", "hundred", "and", "thousand", "4111", "+31",
        "12/25",
        "n", "l", "a", "NL91", "ABNA", "uh", "sorry", "mm-hmm", "card", "security", "code", "expiry", "date", "of",
        "birth", "at", "dot", "com", "jan", "phone", "BSN", "order", "number", "euros", "10:30", "12.50",
        "einundzwanzig",
        "neunzehnhundertneunzig", "doppel", "null", "punkt", "ät", "de", "fifth", "may", "dritten", "März", "", "-",
        "@",
        "jan@x.com", "x@", "plus", "00", "0", "slash", "IBAN", "Prüfziffer", "zwo", "5th", "+", "1.2.3", "é", "🙂",
    ]

    @Test func randomCallsGiveWellFormedSpans() {
        var random = SplitMix(state: 17)
        let detector = RedactionDetector()
        for _ in 0..<400 {
            var words: [RedactionWord] = []
            var time = 0
            for index in 0..<Int.random(in: 1...60, using: &random) {
                time += Int.random(in: 0...4_000, using: &random)
                let track: RedactionTrack = Bool.random(using: &random) ? .caller : .bot
                words.append(
                    RedactionWord(
                        text: Self.vocabulary.randomElement(using: &random)!,
                        startMs: time,
                        endMs: time + 300,
                        track: track,
                        source: .init(segment: index, word: 0)
                    )
                )
            }
            let redacted = detector.redact(words)
            for span in redacted.manifest.spans {
                #expect(words.indices.contains(span.words.lowerBound) && words.indices.contains(span.words.upperBound))
                #expect(
                    words[span.words.lowerBound].track == span.track && words[span.words.upperBound].track == span.track
                )
                #expect(span.startMs <= span.endMs)
            }
            let covered = redacted.words.reduce(0) { $0 + $1.words.count }
            #expect(covered >= redacted.words.count && redacted.words.count <= words.count)
            for word in redacted.words where word.isPlaceholder {
                #expect(word.words.allSatisfy { words[$0].track == word.track })
            }
        }
    }

    @Test func anHourLongCallIsQuick() {
        var words: [RedactionWord] = []
        let line = "my card is 4111 1111 1111 1111 and the order number is 58213 at half past ten thanks".split(
            separator: " "
        )
        for index in 0..<12_000 {
            words.append(
                RedactionWord(
                    text: String(line[index % line.count]),
                    startMs: index * 300,
                    endMs: index * 300 + 250,
                    track: index % 40 < 30 ? .caller : .bot,
                    source: .init(segment: index / 20, word: index % 20)
                )
            )
        }
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = RedactionDetector().detect(words) }
        print("12,000 words detected in \(elapsed)")
        #expect(elapsed < .seconds(30))
    }
}
