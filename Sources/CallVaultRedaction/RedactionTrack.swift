/// Whose voice a word was heard in. The detector keeps each track's runs apart (a caller's number is
/// never glued to the bot's read-back) but reads prompts from both: the bot usually asks
/// "what is the security code?" and the caller answers.
///
/// The raw values match `SpeakerSegment.speaker` in the transcript, so a caller maps with
/// `RedactionTrack(rawValue: segment.speaker)`.
public enum RedactionTrack: String, Sendable, Hashable, Codable, CaseIterable {
    case caller, bot
}
