/// One detected entity: where it was said and what kind it was, never what it was.
///
/// `words` indexes the word list given to the detector; the span covers the words of `track` in that
/// range (words of the other track inside the range, such as a bot's "mm-hmm" between two halves of
/// a card number, are not part of it). The times are the first and last covered word's, so the audio
/// redactor can pad and silence them.
public struct RedactionSpan: Sendable, Hashable, Codable {
    public var track: RedactionTrack
    public var startMs: Int
    public var endMs: Int
    public var kind: RedactionEntityKind
    /// Indices into the detector's input, first and last covered word of `track`.
    public var words: ClosedRange<Int>
    /// What a check digit said; a label only (see `RedactionCheck`).
    public var check: RedactionCheck
    /// The detector that found it (`RedactionDetector.version`), so a re-run after an upgrade can tell
    /// old manifests from new.
    public var detectorVersion: String

    public var category: RedactionCategory { kind.category }

    public init(
        track: RedactionTrack,
        startMs: Int,
        endMs: Int,
        kind: RedactionEntityKind,
        words: ClosedRange<Int>,
        check: RedactionCheck = .none,
        detectorVersion: String = RedactionDetector.version
    ) {
        self.track = track
        self.startMs = startMs
        self.endMs = endMs
        self.kind = kind
        self.words = words
        self.check = check
        self.detectorVersion = detectorVersion
    }

    enum CodingKeys: String, CodingKey {
        case track, startMs, endMs, kind, category, firstWord, lastWord, check, detectorVersion
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        track = try c.decode(RedactionTrack.self, forKey: .track)
        startMs = try c.decode(Int.self, forKey: .startMs)
        endMs = try c.decode(Int.self, forKey: .endMs)
        kind = try c.decode(RedactionEntityKind.self, forKey: .kind)
        let first = try c.decode(Int.self, forKey: .firstWord)
        let last = try c.decode(Int.self, forKey: .lastWord)
        guard first <= last else {
            throw DecodingError.dataCorruptedError(
                forKey: .lastWord,
                in: c,
                debugDescription: "lastWord before firstWord"
            )
        }
        words = first...last
        check = try c.decode(RedactionCheck.self, forKey: .check)
        detectorVersion = try c.decode(String.self, forKey: .detectorVersion)
    }

    /// Encodes the category too, so a manifest reader needs no table to group spans.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(track, forKey: .track)
        try c.encode(startMs, forKey: .startMs)
        try c.encode(endMs, forKey: .endMs)
        try c.encode(kind, forKey: .kind)
        try c.encode(category, forKey: .category)
        try c.encode(words.lowerBound, forKey: .firstWord)
        try c.encode(words.upperBound, forKey: .lastWord)
        try c.encode(check, forKey: .check)
        try c.encode(detectorVersion, forKey: .detectorVersion)
    }
}
