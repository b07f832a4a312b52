/// The language an engine detected on one track, when the tenant's language is `auto`: a call may be
/// answered in another language than the bot speaks, so each track has its own.
public struct DetectedLanguage: Sendable, Equatable, Codable {
    /// The track: `caller` or `bot`.
    public var speaker: String
    /// The code the engine detected (`nl`).
    public var language: String
    /// How sure the engine was (0…1), when it says.
    public var probability: Double?

    public init(speaker: String, language: String, probability: Double?) {
        self.speaker = speaker
        self.language = language
        self.probability = probability
    }
}
