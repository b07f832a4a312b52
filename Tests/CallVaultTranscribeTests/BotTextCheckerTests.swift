import CallVaultArchive
import Testing

@testable import CallVaultTranscribe

/// The bot's text against recognition of its track (`--bot-transcript both`), without an engine: which
/// turns are flagged, which recognised words are kept as speech no text covers.
@Suite struct BotTextCheckerTests {
    /// A segment whose words are spread evenly over its span.
    static func segment(_ text: String, _ startMs: Int, _ endMs: Int) -> TranscriptSegment {
        let parts = text.split(separator: " ").map(String.init)
        let step = (endMs - startMs) / max(1, parts.count)
        let words = parts.enumerated().map {
            TranscriptWord(
                word: $0.element, startMs: startMs + $0.offset * step, endMs: startMs + ($0.offset + 1) * step,
                confidence: 0.9)
        }
        return TranscriptSegment(startMs: startMs, endMs: endMs, text: text, words: words)
    }

    @Test func wordsCompareLowercaseWithDigitsAsWords() {
        #expect(BotTextChecker.words("Your account ends in four-seven-2.") == ["your", "account", "ends", "in", "4", "7", "2"])
        #expect(BotTextChecker.words("ends in 472") == ["ends", "in", "4", "7", "2"])
        #expect(BotTextChecker.words("Don't, Überweisung!") == ["dont", "überweisung"])
        #expect(BotTextChecker.wordErrorRate(reference: ["a", "b", "c", "d"], hypothesis: ["a", "x", "c"]) == 0.5)
        #expect(BotTextChecker.wordErrorRate(reference: [], hypothesis: []) == 0)
    }

    @Test func aTurnThatSaysItsTextPassesAndOneThatSaysSomethingElseIsFlagged() {
        let texts = [
            Self.segment("Thank you. How can I help you today?", 1_000, 3_000),
            Self.segment("Your parcel ships tomorrow from Rotterdam.", 6_000, 8_500),
            Self.segment("Goodbye.", 12_000, 12_600),
        ]
        let recognised = [
            // Heard close enough (one word wrong of eight).
            Self.segment("thank you how can I help you to day", 1_050, 3_100),
            // The text-to-speech said another prompt.
            Self.segment("please hold while I transfer you", 6_100, 8_300),
            // Something the platform never sent as text, later in the call.
            Self.segment("your call is important to us", 15_000, 17_000),
        ]
        let result = BotTextChecker.check(texts: texts, recognised: recognised)
        #expect(result.check.checked == 3)
        // The goodbye was not heard at all: flagged with no words heard.
        #expect(result.check.mismatches.map(\.startMs) == [6_000, 12_000])
        #expect(result.check.mismatches.first?.wordErrorRate == 1 && result.check.mismatches.first?.heardWords == 6)
        #expect(result.check.mismatches.last?.heardWords == 0)
        #expect(result.uncovered.map(\.text) == ["your call is important to us"], "uncovered speech stays in the transcript")
    }
}
