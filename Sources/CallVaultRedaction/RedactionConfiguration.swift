/// How the detector reads a call. Defaults suit a voice bot on a phone line.
public struct RedactionConfiguration: Sendable, Hashable {
    /// The categories to detect; the others are skipped (a tenant's `--redact` list).
    public var categories: Set<RedactionCategory>
    /// The number languages to read, in order. Tables are merged, so "vier double one" still reads,
    /// which is what bilingual callers say.
    public var languages: [NumberLanguage]
    /// The longest silence, in milliseconds, between two words of one track that still continues a
    /// number (callers pause between groups, and engines split utterances at pauses).
    public var maxRunGapMs: Int
    /// How far back, in milliseconds, a prompt ("security code", "date of birth") still applies.
    public var promptWindowMs: Int
    /// How far back, in words of either track, a prompt still applies.
    public var promptWindowWords: Int
    /// How long after a card number (or the word "card") short numbers count as card details
    /// (security code, expiry), in milliseconds.
    public var cardContextMs: Int

    public init(
        categories: Set<RedactionCategory> = Set(RedactionCategory.allCases),
        languages: [NumberLanguage] = [.english, .german, .dutch],
        maxRunGapMs: Int = 3_000,
        promptWindowMs: Int = 15_000,
        promptWindowWords: Int = 14,
        cardContextMs: Int = 90_000
    ) {
        self.categories = categories
        self.languages = languages
        self.maxRunGapMs = maxRunGapMs
        self.promptWindowMs = promptWindowMs
        self.promptWindowWords = promptWindowWords
        self.cardContextMs = cardContextMs
    }
}
