/// A call's transcript as stored (sealed JSON) and shown: every utterance of every track, ordered by
/// time, each naming its speaker. Format version 1 is documented in `docs/transcription.md`; its optional
/// `redactions` (``TranscriptRedactions``) in `docs/redaction.md`.
public struct Transcript: Sendable, Equatable, Codable {
    public static let currentVersion = 1

    public var version: Int
    public var callId: String
    /// The engine that made it (`whisper`, `pocketsphinx`, ...).
    public var engine: String
    /// The language asked for (nil: detected by the engine).
    public var language: String?
    /// When it was made, ISO 8601 UTC.
    public var createdAt: String
    /// Milliseconds of audio transcribed, summed over tracks.
    public var audioMs: Int64
    public var segments: [SpeakerSegment]
    /// What was replaced by placeholders before sealing (nil: the tenant asked for no redaction, or the
    /// transcript predates it). Optional, so transcripts sealed before it read as they were.
    public var redactions: TranscriptRedactions?
    /// How many of the bot's segments are its own words as its platform sent them
    /// (`POST /v1/calls/{id}/utterances`), placed on its track, rather than recognised speech; nil: none.
    public var botTextSegments: Int?
    /// With the tenant's `--bot-transcript both`: the bot's text checked against its recognised speech.
    public var botTextCheck: BotTextCheck?
    /// The language detected on each track, when the language was not given (`auto`); nil otherwise.
    public var detectedLanguages: [DetectedLanguage]?

    public init(
        callId: String, engine: String, language: String?, createdAt: String, audioMs: Int64, segments: [SpeakerSegment]
    ) {
        self.version = Self.currentVersion
        self.callId = callId
        self.engine = engine
        self.language = language
        self.createdAt = createdAt
        self.audioMs = audioMs
        self.segments = segments
        self.redactions = nil
        self.botTextSegments = nil
        self.botTextCheck = nil
        self.detectedLanguages = nil
    }

    /// Merges per-track results into one time-ordered list: by start time, the caller first on a tie
    /// (tracks share the call's timeline, so their times compare directly).
    public static func merge(_ tracks: [(speaker: String, segments: [TranscriptSegment])]) -> [SpeakerSegment] {
        let rank = Dictionary(uniqueKeysWithValues: tracks.enumerated().map { ($0.element.speaker, $0.offset) })
        return tracks.flatMap { track in track.segments.map { SpeakerSegment(speaker: track.speaker, $0) } }
            .sorted { ($0.startMs, rank[$0.speaker] ?? 0, $0.endMs) < ($1.startMs, rank[$1.speaker] ?? 0, $1.endMs) }
    }
}

/// One utterance of one speaker in a call transcript.
public struct SpeakerSegment: Sendable, Equatable, Codable {
    /// The track: `caller` or `bot`.
    public var speaker: String
    public var startMs: Int
    public var endMs: Int
    public var text: String
    public var words: [TranscriptWord]

    public init(speaker: String, _ segment: TranscriptSegment) {
        self.speaker = speaker
        self.startMs = segment.startMs
        self.endMs = segment.endMs
        self.text = segment.text
        self.words = segment.words
    }
}
