/// One recognised word with its place in the audio and the engine's confidence (0...1).
public struct TranscriptWord: Sendable, Equatable, Codable {
    public var word: String
    public var startMs: Int
    public var endMs: Int
    public var confidence: Double

    public init(word: String, startMs: Int, endMs: Int, confidence: Double) {
        self.word = word
        self.startMs = startMs
        self.endMs = endMs
        self.confidence = confidence
    }
}

/// One utterance: a stretch of speech between silences, with its words.
public struct TranscriptSegment: Sendable, Equatable, Codable {
    public var startMs: Int
    public var endMs: Int
    public var text: String
    public var words: [TranscriptWord]

    public init(startMs: Int, endMs: Int, text: String, words: [TranscriptWord]) {
        self.startMs = startMs
        self.endMs = endMs
        self.text = text
        self.words = words
    }
}
