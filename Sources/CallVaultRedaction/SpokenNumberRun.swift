/// One character the normaliser heard, with the words it came from.
public struct SpokenSymbol: Sendable, Hashable {
    /// A digit, an upper-case letter, or "+".
    public var character: Character
    /// Indices of the first and last word it was read from ("double one" gives two "1"s, both
    /// linked to both words).
    public var words: ClosedRange<Int>
    public var startMs: Int
    public var endMs: Int
}

/// A stretch of one track's speech read as digits and letters: consecutive number words, written
/// digits and spelled letters, continued over hesitations, over the other track's interjections and
/// across utterances when the pause is short.
public struct SpokenNumberRun: Sendable, Hashable {
    public var track: RedactionTrack
    public var symbols: [SpokenSymbol]

    /// The run as text ("4111111111111111", "NL91ABNA…"): for the detector, never for logs.
    public var text: String { String(symbols.map(\.character)) }
    public var words: ClosedRange<Int> { symbols.first!.words.lowerBound...symbols.map(\.words.upperBound).max()! }
    public var startMs: Int { symbols.first!.startMs }
    public var endMs: Int { symbols.map(\.endMs).max()! }
}

extension SpokenNumberRun: CustomStringConvertible {
    /// The shape only, never the characters: a run may be a card number.
    public var description: String {
        "SpokenNumberRun(\(track.rawValue), \(symbols.count) symbols, words \(words.lowerBound)...\(words.upperBound))"
    }
}

extension SpokenSymbol: CustomStringConvertible {
    public var description: String { "SpokenSymbol(words \(words.lowerBound)...\(words.upperBound))" }
}
