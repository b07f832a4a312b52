/// What a data key protects. Voice and transcripts have separate retention, so separate day keys.
public enum KeyKind: String, Sendable, Hashable, CaseIterable, Codable {
    case voice
    case transcript
}
