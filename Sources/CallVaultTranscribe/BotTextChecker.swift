public import CallVaultArchive

/// Checks the bot's placed text against speech recognition of its whole track (tenant
/// `--bot-transcript both`), and keeps the recognised bot speech that no text covers.
///
/// A turn is compared with the recognised words whose middle falls in its span (widened by
/// ``marginMs``: word times and placement both err by a few hundred milliseconds). Words are compared
/// lowercased, letters and digits only, each digit a word and English digit names read as digits (the
/// text says "four seven two", an engine writes "4-7-2"); the rate is the word error rate of what was
/// heard against the text.
public enum BotTextChecker {
    /// How far outside a turn's span a recognised word may be and still count for it.
    public static let marginMs = 300

    public struct Result: Sendable, Equatable {
        public var check: BotTextCheck
        /// Recognised bot segments outside every turn: speech the platform did not send.
        public var uncovered: [TranscriptSegment]
    }

    public static func check(texts: [TranscriptSegment], recognised: [TranscriptSegment]) -> Result {
        let (heard, uncovered) = assign(recognised, to: texts)
        var mismatches: [BotTextCheck.Mismatch] = []
        for (index, text) in texts.enumerated() {
            let rate = wordErrorRate(reference: words(text.text), hypothesis: heard[index])
            if rate > BotTextCheck.mismatchThreshold {
                mismatches.append(
                    BotTextCheck.Mismatch(
                        startMs: text.startMs, endMs: text.endMs, wordErrorRate: (rate * 1000).rounded() / 1000,
                        heardWords: heard[index].count))
            }
        }
        return Result(check: BotTextCheck(checked: texts.count, mismatches: mismatches), uncovered: uncovered)
    }

    /// Recognised bot speech outside every placed turn: what the engine heard that no text covers (inside a
    /// turn it is the text's own leftovers, or Whisper's "You" on silence).
    public static func uncovered(_ recognised: [TranscriptSegment], outside texts: [TranscriptSegment])
        -> [TranscriptSegment]
    {
        assign(recognised, to: texts).uncovered
    }

    /// The comparable words recognised in each turn's span, and the recognised speech left outside them.
    private static func assign(_ recognised: [TranscriptSegment], to texts: [TranscriptSegment])
        -> (heard: [[String]], uncovered: [TranscriptSegment])
    {
        let spans = texts.map { ($0.startMs - marginMs)..<($0.endMs + marginMs) }
        func inSpan(_ startMs: Int, _ endMs: Int) -> Int? {
            let middle = (startMs + endMs) / 2
            return spans.firstIndex { $0.contains(middle) }
        }
        var heard = [[String]](repeating: [], count: texts.count)
        var uncovered: [TranscriptSegment] = []
        for segment in recognised {
            if segment.words.isEmpty {
                if let index = inSpan(segment.startMs, segment.endMs) {
                    heard[index] += words(segment.text)
                } else {
                    uncovered.append(segment)
                }
                continue
            }
            var outside: [TranscriptWord] = []
            for word in segment.words {
                if let index = inSpan(word.startMs, word.endMs) { heard[index] += words(word.word) } else { outside.append(word) }
            }
            // What is left of a segment after its covered words is speech no text took: kept as recognised.
            if !outside.isEmpty {
                let text = outside.map(\.word).joined(separator: " ")
                uncovered.append(
                    TranscriptSegment(
                        startMs: outside.first!.startMs, endMs: outside.last!.endMs, text: text, words: outside))
            }
        }
        return (heard, uncovered)
    }

    private static let digitNames = [
        "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
        "seven": "7", "eight": "8", "nine": "9",
    ]

    /// The comparable words of a text.
    static func words(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty { result.append(digitNames[current] ?? current) }
            current = ""
        }
        for character in text.lowercased() {
            if character.isNumber {
                flush()
                result.append(String(character))
            } else if character.isLetter || character == "'" {
                current.append(character)
            } else {
                flush()
            }
        }
        flush()
        return result.map { $0.replacingOccurrences(of: "'", with: "") }.filter { !$0.isEmpty }
    }

    /// Edits (substitutions, insertions, deletions) from `reference` to `hypothesis`, per reference word.
    static func wordErrorRate(reference: [String], hypothesis: [String]) -> Double {
        guard !reference.isEmpty else { return hypothesis.isEmpty ? 0 : 1 }
        var row = Array(0...hypothesis.count)
        for i in 1...reference.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: hypothesis.count, by: 1) {
                let substitution = previous + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1)
                previous = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, substitution)
            }
        }
        return Double(row[hypothesis.count]) / Double(reference.count)
    }
}
