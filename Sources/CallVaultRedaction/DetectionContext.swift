/// One detection pass over a call: the words read once, where prompts were said, and what has
/// been found so far (card numbers make the short numbers after them card details).
struct DetectionContext {
    struct PromptHit {
        var prompt: RedactionPrompt
        /// The prompt's last word.
        var word: Int
        var length: Int
    }

    let words: [RedactionWord]
    let tokens: [[SpokenToken]]
    /// Lower-case words with edge punctuation trimmed.
    let lowered: [String]
    let configuration: RedactionConfiguration
    let lexicon: SpokenLexicon
    /// Prompt hits ordered by their last word.
    private(set) var prompts: [PromptHit] = []
    /// Each track's word indices in order.
    let trackWords: [RedactionTrack: [Int]]

    init(words: [RedactionWord], reader: SpokenWordReader, configuration: RedactionConfiguration) {
        self.words = words
        self.tokens = reader.read(words)
        self.lowered = words.map { SpokenWordReader.normalised($0.text) }
        self.configuration = configuration
        self.lexicon = reader.lexicon
        var byTrack: [RedactionTrack: [Int]] = [:]
        for (index, word) in words.enumerated() { byTrack[word.track, default: []].append(index) }
        self.trackWords = byTrack
        self.prompts = findPrompts()
    }

    /// Matches every prompt phrase against consecutive words of one track.
    private func findPrompts() -> [PromptHit] {
        var hits: [PromptHit] = []
        for indices in trackWords.values {
            for (position, index) in indices.enumerated() {
                for (prompt, phrase) in lexicon.prompts where phrase.count <= position + 1 {
                    let start = position + 1 - phrase.count
                    let matched = phrase.indices.allSatisfy { offset in
                        phrase[offset].matches(lowered[indices[start + offset]])
                    }
                    if matched { hits.append(PromptHit(prompt: prompt, word: index, length: phrase.count)) }
                }
            }
        }
        return hits.sorted { ($0.word, $0.length) < ($1.word, $1.length) }
    }

    /// The prompt said last before `word` (either track), within the configured window, or nil. Of
    /// prompts ending on the same word the longest wins ("card number" over "number").
    func nearestPrompt(before word: Int) -> PromptHit? {
        let position = Self.partition(prompts.count) { prompts[$0].word < word }
        guard position > 0 else { return nil }
        let hit = prompts[position - 1]
        guard words[word].startMs - words[hit.word].endMs <= configuration.promptWindowMs else { return nil }
        let wordsBetween = words[(hit.word + 1)..<word].indices.filter { tokens[$0] != [.filler] }.count
        return wordsBetween <= configuration.promptWindowWords ? hit : nil
    }

    /// The next word of `track` after `word` that is not a hesitation, if any.
    func nextWord(after word: Int, track: RedactionTrack) -> Int? {
        guard let indices = trackWords[track] else { return nil }
        let start = Self.partition(indices.count) { indices[$0] <= word }
        return indices[start...].first { tokens[$0] != [.filler] }
    }

    /// The previous word of `track` before `word` that is not a hesitation, if any.
    func previousWord(before word: Int, track: RedactionTrack) -> Int? {
        guard let indices = trackWords[track] else { return nil }
        let end = Self.partition(indices.count) { indices[$0] < word }
        return indices[..<end].last { tokens[$0] != [.filler] }
    }

    /// The first position in `0..<count` where `isBefore` turns false (binary search over a sorted
    /// list): a long call has thousands of words and prompts, and every run asks.
    private static func partition(_ count: Int, _ isBefore: (Int) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if isBefore(middle) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// True when a quantity or currency word follows or precedes the run: an amount, a time, a count.
    func isQuantity(_ run: ClosedRange<Int>, track: RedactionTrack) -> Bool {
        if let next = nextWord(after: run.upperBound, track: track), lexicon.quantityWords.contains(lowered[next]) {
            return true
        }
        if let previous = previousWord(before: run.lowerBound, track: track),
            ["€", "$", "£", "eur", "usd", "gbp"].contains(lowered[previous])
        {
            return true
        }
        return words[run.lowerBound].text.contains(where: { "€$£%".contains($0) })
    }
}
