/// One word of a redacted transcript: a word kept as it was, or a placeholder (`[CARD]`) standing
/// for the covered words of one span within one utterance.
public struct RedactedWord: Sendable, Hashable, Codable {
    /// The original text, or the placeholder.
    public var text: String
    public var startMs: Int
    public var endMs: Int
    public var track: RedactionTrack
    /// The source words this stands for (one for a kept word), to rebuild the caller's segments:
    /// a placeholder never spans two utterances.
    public var sources: ClosedRange<RedactionWord.Source>
    /// Indices into the redactor's input of the first and last word this stands for.
    public var words: ClosedRange<Int>
    /// The kind of the span a placeholder stands for; nil for a kept word.
    public var kind: RedactionEntityKind?

    public var isPlaceholder: Bool { kind != nil }

    public init(
        text: String,
        startMs: Int,
        endMs: Int,
        track: RedactionTrack,
        sources: ClosedRange<RedactionWord.Source>,
        words: ClosedRange<Int>,
        kind: RedactionEntityKind?
    ) {
        self.text = text
        self.startMs = startMs
        self.endMs = endMs
        self.track = track
        self.sources = sources
        self.words = words
        self.kind = kind
    }
}

extension RedactedWord: CustomStringConvertible {
    /// The placeholder, or only the shape of a kept word (descriptions end up in logs).
    public var description: String {
        "RedactedWord(\(kind?.placeholder ?? "word") \(track.rawValue) \(startMs)-\(endMs) ms)"
    }
}
