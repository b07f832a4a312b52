/// Turns a call's words into runs of digits and letters, per track, each symbol linked to its words.
///
/// Runs continue over hesitations ("uh", "sorry", "äh"), over anything the other track says (a bot's
/// "mm-hmm" between two halves of a card number) and across utterances of the same track while the
/// pause stays within `RedactionConfiguration.maxRunGapMs`; any other word of the same track ends
/// the run. Runs without a digit are dropped.
public struct SpokenNumberNormaliser: Sendable {
    public let configuration: RedactionConfiguration
    let reader: SpokenWordReader

    public init(configuration: RedactionConfiguration = .init()) {
        self.configuration = configuration
        self.reader = SpokenWordReader(lexicon: SpokenLexicon(configuration.languages))
    }

    /// The runs in `words` (both tracks, in time order), ordered by start.
    public func runs(in words: [RedactionWord]) -> [SpokenNumberRun] {
        runs(in: words, tokens: reader.read(words))
    }

    func runs(in words: [RedactionWord], tokens: [[SpokenToken]]) -> [SpokenNumberRun] {
        var result: [SpokenNumberRun] = []
        for track in RedactionTrack.allCases {
            var items: [SpokenNumberGrammar.Item] = []
            var lastEndMs: Int?
            func flush() {
                while let last = items.last, !last.token.isRunPart || isRepeater(last.token) { items.removeLast() }
                if items.contains(where: { $0.token.isNumeric }) {
                    let symbols = SpokenNumberGrammar.groups(items).flatMap { group in
                        group.digits.map { character in
                            SpokenSymbol(
                                character: character,
                                words: group.firstWord...group.lastWord,
                                startMs: words[group.firstWord].startMs,
                                endMs: words[group.lastWord].endMs
                            )
                        }
                    }
                    if !symbols.isEmpty { result.append(SpokenNumberRun(track: track, symbols: symbols)) }
                }
                items.removeAll()
                lastEndMs = nil
            }
            let trackIndices = words.indices.filter { words[$0].track == track }
            for (position, index) in trackIndices.enumerated() {
                let word = words[index]
                var wordTokens = tokens[index]
                if let last = lastEndMs, word.startMs - last > configuration.maxRunGapMs { flush() }
                if wordTokens == [.filler] {
                    if !items.isEmpty { lastEndMs = word.endMs }
                    continue
                }
                if wordTokens == [.conjunction], let last = items.last?.token, last == .hundred || last == .thousand {
                    items.append((.conjunction, index))
                    lastEndMs = word.endMs
                    continue
                }
                if case .homophone(let digit)? = wordTokens.first, wordTokens.count == 1 {
                    let next = trackIndices[(position + 1)...].first { tokens[$0] != [.filler] }
                    let between =
                        items.last?.token.isNumeric == true
                        && next.map {
                            tokens[$0].first?.isNumeric == true
                                && words[$0].startMs - word.endMs <= configuration.maxRunGapMs
                        } == true
                    wordTokens = between ? [.unit(digit)] : [.word(SpokenWordReader.normalised(word.text))]
                }
                if wordTokens == [.dash], !items.isEmpty {
                    lastEndMs = word.endMs
                    continue
                }
                guard wordTokens.allSatisfy(\.isRunPart) else {
                    flush()
                    continue
                }
                items += wordTokens.map { ($0, index) }
                lastEndMs = word.endMs
            }
            flush()
        }
        return result.sorted { ($0.startMs, $0.words.lowerBound) < ($1.startMs, $1.words.lowerBound) }
    }

    private func isRepeater(_ token: SpokenToken) -> Bool {
        if case .repeater = token { return true }
        return false
    }
}
