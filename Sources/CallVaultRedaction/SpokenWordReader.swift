/// Reads one transcript word into number tokens: digits as written, number words, German-style
/// compounds split into their parts, spelled letters, spoken symbols, hesitations.
///
/// A word may give several tokens ("+31" → plus, digits; "einundzwanzig" → unit, joiner, tens). It
/// never guesses across words; joining words into numbers is `SpokenNumberGrammar`'s job.
struct SpokenWordReader: Sendable {
    let lexicon: SpokenLexicon

    /// Characters trimmed from both ends of a word (engines attach punctuation to words).
    private static let edgePunctuation: Set<Character> = [
        ",", ".", "?", "!", ";", ":", "\"", "'", "(", ")", "[", "]", "…", "“", "”", "‘", "’",
    ]

    /// The lower-case word with edge punctuation removed, as prompts and stop words are matched.
    static func normalised(_ text: String) -> String {
        var scalars = Substring(text.lowercased())
        while let first = scalars.first, edgePunctuation.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, edgePunctuation.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }

    /// The word with edge punctuation removed, its case kept.
    static func trimmingEdges(_ text: String) -> Substring {
        var scalars = Substring(text)
        while let first = scalars.first, edgePunctuation.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, edgePunctuation.contains(last) { scalars = scalars.dropLast() }
        return scalars
    }

    /// Every word read, each distinct text once: a call repeats its few hundred words thousands of
    /// times, and compound splitting is the costly part.
    func read(_ words: [RedactionWord]) -> [[SpokenToken]] {
        var known: [String: [SpokenToken]] = [:]
        return words.map { word in
            if let tokens = known[word.text] { return tokens }
            let tokens = read(word.text)
            known[word.text] = tokens
            return tokens
        }
    }

    func read(_ text: String) -> [SpokenToken] {
        let lower = Self.normalised(text)
        if lower.isEmpty || lexicon.fillers.contains(lower) { return [.filler] }
        // Whisper writes digits read one by one as "3-7-8-2" and splits that into words "3", "-7", "-8":
        // a hyphen glued to the front of a word is the joint with the word before, not part of it.
        if lower.count > 1, let first = lower.first, first == "-" || first == "–" {
            return read(String(text.drop { $0 == "-" || $0 == "–" || Self.edgePunctuation.contains($0) }))
        }
        if lower.contains("@") { return lower.contains(".") || lower.count > 1 ? [.writtenEmail] : [.at] }
        if let token = lexicon.words[lower] { return [token] }
        if let tokens = writtenNumber(lower) { return tokens }
        if let tokens = spelled(text: text, lower: lower) { return tokens }
        if lower.contains("-") {
            // Split the word as written, not lower-cased: "NL-91" is the letters N L, then digits.
            let parts = Self.trimmingEdges(text).split(separator: "-").map { read(String($0)) }
            if parts.count > 1, parts.allSatisfy({ $0.allSatisfy { $0.isRunPart || $0 == .dash } }) {
                return parts.flatMap { $0 }
            }
            if parts.count == 2, case .tens(let tens)? = parts[0].first, parts[0].count == 1,
                case .ordinal(let unit)? = parts[1].first, unit < 10
            {
                return [.ordinal(tens + unit)]
            }
        }
        if let pieces = compound(lower), pieces.count > 1 { return pieces }
        if let ordinal = germanOrdinal(lower) { return [.ordinal(ordinal)] }
        return [.word(lower)]
    }

    /// Written digits: "4111", "+31", "(0)6", "12/25", "4111-1111", "12.05.1985", "4,111,111,111,111,111"
    /// (engines format long numbers so), "5th". A single "." or "," between digits is a decimal or
    /// thousands mark (an amount), and ":" a time: both stay words.
    private func writtenNumber(_ lower: String) -> [SpokenToken]? {
        guard let first = lower.first, first.isASCII, first.isNumber || first == "+" else { return nil }
        var body = Substring(lower)
        let plus = body.first == "+"
        if plus { body = body.dropFirst() }
        for suffix in ["st", "nd", "rd", "th"] where body.hasSuffix(suffix) {
            if let value = Int(body.dropLast(2)), value > 0, value < 100 { return [.ordinal(value)] }
        }
        guard body.contains(where: \.isNumber),
            body.allSatisfy({ ($0.isASCII && $0.isNumber) || "-/.,()".contains($0) })
        else { return nil }
        if body.filter({ $0 == "." || $0 == "," }).count == 1 { return nil }
        let digits = String(body.filter(\.isNumber))
        return plus ? [.plus, .digits(digits)] : [.digits(digits)]
    }

    /// Spelled letters: a single letter ("n"), or an upper-case block as engines write spelling
    /// ("NL", "ABNA", "NL91ABNA0417164300"), or lower-case letters mixed with digits ("nl91").
    private func spelled(text: String, lower: String) -> [SpokenToken]? {
        let trimmed = text.filter { $0.isLetter || $0.isNumber }
        if lower.count == 1, let letter = lower.first, letter.isLetter, letter.isASCII {
            return [.letter(Character(letter.uppercased()))]
        }
        guard trimmed.count >= 2, trimmed.count <= 34, lower.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
            trimmed.contains(where: \.isLetter)
        else { return nil }
        let hasDigit = trimmed.contains(where: \.isNumber)
        let upperBlock = trimmed.allSatisfy { $0.isNumber || $0.isUppercase } && (hasDigit || trimmed.count <= 4)
        guard upperBlock || (hasDigit && trimmed.contains(where: \.isLetter)) else { return nil }
        var tokens: [SpokenToken] = []
        var digits = ""
        for character in trimmed {
            if character.isNumber {
                digits.append(character)
            } else {
                if !digits.isEmpty { tokens.append(.digits(digits)); digits = "" }
                tokens.append(.letter(Character(character.uppercased())))
            }
        }
        if !digits.isEmpty { tokens.append(.digits(digits)) }
        return tokens
    }

    /// Splits a compound into number pieces ("neunzehnhundertfünfundachtzig"), longest piece first,
    /// backtracking; nil unless the whole word is covered.
    func compound(_ word: String) -> [SpokenToken]? {
        guard lexicon.maxPieceLength > 0 else { return nil }
        let characters = Array(word)
        var memo: [Int: [SpokenToken]?] = [:]
        func split(from start: Int) -> [SpokenToken]? {
            if start == characters.count { return [] }
            if let known = memo[start] { return known }
            var result: [SpokenToken]?
            var length = min(lexicon.maxPieceLength, characters.count - start)
            while length > 0, result == nil {
                if let piece = lexicon.compoundPieces[String(characters[start..<(start + length)])],
                    let rest = split(from: start + length)
                {
                    result = [piece] + rest
                }
                length -= 1
            }
            memo[start] = result
            return result
        }
        return split(from: 0)
    }

    /// German ordinals by suffix ("fünften" → 5, "dritte" → 3, "einundzwanzigsten" → 21).
    private func germanOrdinal(_ word: String) -> Int? {
        for suffix in lexicon.ordinalSuffixes where word.hasSuffix(suffix) && word.count > suffix.count + 1 {
            let stem = String(word.dropLast(suffix.count))
            if let value = lexicon.ordinalStems[stem] { return value }
            let tokens: [SpokenToken]
            if let token = lexicon.words[stem] ?? lexicon.compoundPieces[stem] {
                tokens = [token]
            } else if let pieces = compound(stem) {
                tokens = pieces
            } else {
                continue
            }
            let groups = SpokenNumberGrammar.groups(tokens.map { ($0, 0) })
            if groups.count == 1, let value = Int(groups[0].digits), value > 0, value < 32 { return value }
        }
        return nil
    }
}
