import Foundation

/// How a tenant's calls are transcribed beyond language and model: where the bot's side comes from
/// (`tenant add|set --bot-transcript text|asr|both`) and the words its engine should expect
/// (`--vocabulary FILE|none`). Stored as one text column (JSON), NULL for the defaults.
public struct TenantTranscription: Sendable, Hashable, Codable {
    /// Where the bot's side of a transcript comes from when its platform sends the bot's utterances.
    public enum BotTranscript: String, Sendable, Hashable, Codable, CaseIterable {
        /// The bot's own text, placed on its track; only speech it does not cover goes to the engine.
        case text
        /// Speech recognition on the bot track, as if no utterances were sent.
        case asr
        /// The text, and speech recognition on the whole bot track to check it: a turn whose audio does
        /// not say its text is flagged (a text-to-speech fault, a wrong prompt, a cut-off line).
        case both
    }

    public var botTranscript: BotTranscript
    /// Words and phrases the engine should expect (product names, street names, jargon), in the order
    /// given; empty: none. Passed to engines that take hints (Whisper's hotwords and prompt, an HTTP
    /// engine's `prompt`, a command's `{vocabulary}` file).
    public var vocabulary: [String]

    /// Most phrases a vocabulary holds: Whisper reads at most 224 tokens of hints.
    public static let maximumPhrases = 100
    /// Longest phrase, in bytes.
    public static let maximumPhraseBytes = 100
    /// Longest vocabulary, in bytes (all phrases with a separator each).
    public static let maximumVocabularyBytes = 2_000

    public init(botTranscript: BotTranscript = .text, vocabulary: [String] = []) {
        self.botTranscript = botTranscript
        self.vocabulary = vocabulary
    }

    public var isDefault: Bool { botTranscript == .text && vocabulary.isEmpty }

    /// Reads a vocabulary file: one word or phrase per line; blank lines and lines starting with `#`
    /// are skipped, spaces trimmed, repeats dropped. Each limit is checked with the line it concerns.
    public static func vocabulary(fileText: String) throws(CatalogError) -> [String] {
        var phrases: [String] = []
        var seen: Set<String> = []
        // Any line ending: "\r\n" is one Character in Swift, so splitting at "\n" alone would miss it.
        for (index, raw) in fileText.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard !line.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw CatalogError(.invalidPolicy, "vocabulary line \(index + 1) holds a control character")
            }
            guard line.utf8.count <= maximumPhraseBytes else {
                throw CatalogError(
                    .invalidPolicy,
                    "vocabulary line \(index + 1) is \(line.utf8.count) bytes long: the limit is \(maximumPhraseBytes)")
            }
            if seen.insert(line.lowercased()).inserted { phrases.append(line) }
        }
        let vocabulary = TenantTranscription(vocabulary: phrases)
        try vocabulary.validate()
        return phrases
    }

    /// ``vocabulary(fileText:)`` of the file at `path` (`tenant set --vocabulary`, `transcribe --vocabulary`).
    public static func vocabulary(contentsOfFile path: String) throws(CatalogError) -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CatalogError(.invalidArgument, "cannot read it as UTF-8 text")
        }
        return try vocabulary(fileText: text)
    }

    /// Checks the limits, so a vocabulary an engine would cut short never reaches the catalog.
    public func validate() throws(CatalogError) {
        guard vocabulary.count <= Self.maximumPhrases else {
            throw CatalogError(
                .invalidPolicy,
                "the vocabulary has \(vocabulary.count) phrases: the limit is \(Self.maximumPhrases) "
                    + "(keep the words the engine gets wrong)")
        }
        let bytes = vocabulary.reduce(0) { $0 + $1.utf8.count + 2 }
        guard bytes <= Self.maximumVocabularyBytes else {
            throw CatalogError(
                .invalidPolicy,
                "the vocabulary is \(bytes) bytes long: the limit is \(Self.maximumVocabularyBytes)")
        }
        for phrase in vocabulary {
            guard !phrase.isEmpty, phrase.utf8.count <= Self.maximumPhraseBytes,
                !phrase.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw CatalogError(
                    .invalidPolicy,
                    "a vocabulary phrase must have 1 to \(Self.maximumPhraseBytes) bytes and no control characters")
            }
        }
    }

    /// The column's text: nil for the defaults.
    public var columnText: String? {
        // Keys in a fixed order, so a stored column is the same text for the same value.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard !isDefault, let data = try? encoder.encode(self) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads the column leniently: nil or text this binary cannot read (written by a newer one) is the
    /// defaults, a bot-transcript value it does not know is `text`.
    public init(columnText: String?) {
        guard let columnText, let value = try? JSONDecoder().decode(Self.self, from: Data(columnText.utf8)) else {
            self.init()
            return
        }
        self = value
    }

    enum CodingKeys: String, CodingKey { case botTranscript, vocabulary }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        botTranscript =
            (try? c.decodeIfPresent(String.self, forKey: .botTranscript)).flatMap { $0.flatMap(BotTranscript.init) } ?? .text
        vocabulary = try c.decodeIfPresent([String].self, forKey: .vocabulary) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(botTranscript, forKey: .botTranscript)
        try c.encode(vocabulary, forKey: .vocabulary)
    }
}
