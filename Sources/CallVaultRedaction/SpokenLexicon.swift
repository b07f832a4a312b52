/// The merged tables of the configured languages, as look-ups the word reader and the detector use.
/// Built once per detector, so reading a word is a few dictionary look-ups.
struct SpokenLexicon: Sendable {
    /// Whole words with a fixed meaning (number words, letters, symbols, ordinals).
    var words: [String: SpokenToken] = [:]
    /// Pieces German-style compounds are split into, longest tried first.
    var compoundPieces: [String: SpokenToken] = [:]
    var maxPieceLength = 0
    var fillers: Set<String> = []
    var months: [String: Int] = [:]
    var ordinalSuffixes: [String] = []
    var ordinalStems: [String: Int] = [:]
    var quantityWords: Set<String> = []
    var emailStopWords: Set<String> = []
    /// Prompt phrases, each a list of word patterns.
    var prompts: [(prompt: RedactionPrompt, phrase: [WordPattern])] = []
    /// Conjunctions ("and") that may sit inside a number after "hundred".
    var conjunctions: Set<String> = []

    init(_ languages: [NumberLanguage]) {
        for language in languages {
            func add(_ table: [String: Int], _ make: (Int) -> SpokenToken) {
                for (word, value) in table where words[word] == nil { words[word] = make(value) }
            }
            add(language.units) { .unit($0) }
            add(language.teens) { .teen($0) }
            add(language.tens) { .tens($0) }
            add(language.repeaters) { .repeater($0) }
            add(language.ordinals) { .ordinal($0) }
            add(language.homophones) { .homophone($0) }
            for (word, letter) in language.letters where words[word] == nil { words[word] = .letter(letter) }
            for word in language.hundred { words[word] = .hundred }
            for word in language.thousand { words[word] = .thousand }
            for word in language.plus { words[word] = .plus }
            for word in language.at { words[word] = .at }
            for word in language.dot { words[word] = .dot }
            for word in language.dash { words[word] = .dash }
            for word in language.underscore { words[word] = .underscore }
            if !language.unitTensJoiner.isEmpty || !language.compoundUnits.isEmpty {
                for (piece, value) in language.units.merging(language.compoundUnits, uniquingKeysWith: { a, _ in a }) {
                    compoundPieces[piece] = .unit(value)
                }
                for (piece, value) in language.teens { compoundPieces[piece] = .teen(value) }
                for (piece, value) in language.tens { compoundPieces[piece] = .tens(value) }
                for piece in language.hundred { compoundPieces[piece] = .hundred }
                for piece in language.thousand { compoundPieces[piece] = .thousand }
                for piece in language.unitTensJoiner { compoundPieces[piece] = .joiner }
            }
            conjunctions.formUnion(language.conjunction)
            fillers.formUnion(language.fillers)
            months.merge(language.months) { a, _ in a }
            ordinalSuffixes += language.ordinalSuffixes
            ordinalStems.merge(language.ordinalStems) { a, _ in a }
            quantityWords.formUnion(language.quantityWords)
            emailStopWords.formUnion(language.emailStopWords)
            for prompt in RedactionPrompt.allCases {
                for phrase in language.prompts[prompt] ?? [] { prompts.append((prompt, phrase.map(WordPattern.init))) }
            }
        }
        maxPieceLength = compoundPieces.keys.map(\.count).max() ?? 0
        ordinalSuffixes.sort { $0.count > $1.count }
        for word in conjunctions where words[word] == nil { words[word] = .conjunction }
    }
}

/// One word of a prompt phrase: exact, or `*x` (ends with), `x*` (starts with), `*x*` (contains),
/// parsed once so matching a long call allocates nothing.
struct WordPattern: Sendable {
    enum Kind { case exact, prefix, suffix, contains }
    let kind: Kind
    let core: String

    init(_ pattern: String) {
        let leading = pattern.hasPrefix("*"), trailing = pattern.hasSuffix("*")
        core = String(pattern.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
        kind = leading ? (trailing ? .contains : .suffix) : (trailing ? .prefix : .exact)
    }

    func matches(_ word: String) -> Bool {
        switch kind {
        case .exact: word == core
        case .prefix: word.hasPrefix(core)
        case .suffix: word.hasSuffix(core)
        case .contains: word.contains(core)
        }
    }
}
