/// The bot's text checked against what its track said (tenant `--bot-transcript both`): how many of its
/// turns were checked and which did not match. A mismatch is a turn whose audio does not say its text —
/// a text-to-speech fault, a prompt other than the one logged, a line cut off — for an operator to play.
///
/// Holds times and rates only, no recognised words: the transcript's segments hold the text, and words
/// recognised here would escape the transcript's redaction.
public struct BotTextCheck: Sendable, Equatable, Codable {
    /// A turn whose recognised words differ from its text by more than this share is a mismatch. Set for
    /// a capable engine (Whisper base gets 10 % of the sample bot's words wrong); a weak engine flags more.
    public static let mismatchThreshold = 0.5

    /// One turn that did not match.
    public struct Mismatch: Sendable, Equatable, Codable {
        /// The turn's span on the call's timeline.
        public var startMs: Int
        public var endMs: Int
        /// Word error rate of what was recognised against the text (0…, 1 = nothing right).
        public var wordErrorRate: Double
        /// Words recognised in the span (0: the engine heard nothing there).
        public var heardWords: Int

        public init(startMs: Int, endMs: Int, wordErrorRate: Double, heardWords: Int) {
            self.startMs = startMs
            self.endMs = endMs
            self.wordErrorRate = wordErrorRate
            self.heardWords = heardWords
        }
    }

    /// Turns of the bot's text that were checked.
    public var checked: Int
    public var mismatches: [Mismatch]

    public init(checked: Int, mismatches: [Mismatch]) {
        self.checked = checked
        self.mismatches = mismatches
    }
}
