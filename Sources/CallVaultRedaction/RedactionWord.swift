/// One recognised word as the detector sees it: its text, where it lies in the call's timeline, which
/// track spoke it, and a link back to the word it was made from.
///
/// A plain value so any transcript type can be mapped onto it: for a stored `Transcript`, walk
/// `segments` and make one `RedactionWord` per `TranscriptWord`, with
/// `source: .init(segment: segmentIndex, word: wordIndex)`, then sort by `(startMs, source)`: the
/// detector wants the two tracks' words interleaved in time, and segments are only ordered by their
/// start. The detector never looks at `source`; it is carried through to the redacted word list so
/// the caller can rebuild its own segments.
public struct RedactionWord: Sendable, Hashable, Codable {
    /// Where a word came from in the caller's own transcript: utterance (segment) and word index.
    public struct Source: Sendable, Hashable, Codable, Comparable {
        public var segment: Int
        public var word: Int

        public init(segment: Int, word: Int) {
            self.segment = segment
            self.word = word
        }

        public static func < (lhs: Source, rhs: Source) -> Bool {
            (lhs.segment, lhs.word) < (rhs.segment, rhs.word)
        }
    }

    /// The word as the engine wrote it (digits, number words, letters, punctuation included).
    public var text: String
    public var startMs: Int
    public var endMs: Int
    public var track: RedactionTrack
    public var source: Source

    public init(text: String, startMs: Int, endMs: Int, track: RedactionTrack, source: Source) {
        self.text = text
        self.startMs = startMs
        self.endMs = endMs
        self.track = track
        self.source = source
    }
}

extension RedactionWord: CustomStringConvertible {
    /// Never the text: a word may be part of a card number, and descriptions end up in logs.
    public var description: String {
        "RedactionWord(\(track.rawValue) \(startMs)-\(endMs) ms, segment \(source.segment) word \(source.word))"
    }
}
