/// Dates said with month names or ordinals after a date-of-birth or expiry prompt ("the fifth of
/// May nineteen eighty five", "am dritten März 1990", "December twenty six"). Dates said as plain
/// digits are runs and are classified with the other numbers.
extension RedactionDetector {
    /// Words that may sit inside a spoken date without ending it.
    static let dateConnectors: Set<String> = ["the", "of", "der", "den", "am", "im", "in", "on", "/", "-"]

    func spokenDates(in context: DetectionContext) -> [RedactionSpan] {
        var spans: [RedactionSpan] = []
        for hit in context.prompts where hit.prompt == .dateOfBirth || hit.prompt == .expiry {
            let kind: RedactionEntityKind = hit.prompt == .dateOfBirth ? .dateOfBirth : .expiryDate
            guard let (track, words) = spokenDate(after: hit.word, in: context) else { continue }
            spans.append(
                RedactionSpan(
                    track: track,
                    startMs: context.words[words.lowerBound].startMs,
                    endMs: context.words[words.upperBound].endMs,
                    kind: kind,
                    words: words
                )
            )
        }
        return spans
    }

    /// The first date with a month name or an ordinal within the prompt window after `prompt`, on
    /// whichever track says it first.
    private func spokenDate(after prompt: Int, in context: DetectionContext) -> (RedactionTrack, ClosedRange<Int>)? {
        let limit = min(context.words.count, prompt + 1 + configuration.promptWindowWords)
        guard let first = (prompt + 1..<limit).first(where: { isDatePart(context, $0) }) else { return nil }
        guard context.words[first].startMs - context.words[prompt].endMs <= configuration.promptWindowMs else {
            return nil
        }
        let track = context.words[first].track
        var last = first
        var named = isNamedDatePart(context, first)
        var index = first + 1
        while index < context.words.count, index - first <= 10 {
            defer { index += 1 }
            guard context.words[index].track == track, context.tokens[index] != [.filler] else { continue }
            if context.words[index].startMs - context.words[last].endMs > configuration.maxRunGapMs { break }
            if isDatePart(context, index) {
                last = index
                named = named || isNamedDatePart(context, index)
            } else if !Self.dateConnectors.contains(context.lowered[index]) {
                break
            }
        }
        return named ? (track, first...last) : nil
    }

    private func isNamedDatePart(_ context: DetectionContext, _ index: Int) -> Bool {
        if context.lexicon.months[context.lowered[index]] != nil { return true }
        if case .ordinal = context.tokens[index].first { return true }
        return false
    }

    private func isDatePart(_ context: DetectionContext, _ index: Int) -> Bool {
        isNamedDatePart(context, index)
            || context.tokens[index].allSatisfy { $0.isNumeric || $0 == .conjunction || $0 == .joiner }
    }
}
