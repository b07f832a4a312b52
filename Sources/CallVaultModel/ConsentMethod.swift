/// How a consent event reached CallVault, kept as part of the evidence.
public enum ConsentMethod: String, Sendable, Codable, CaseIterable {
    /// The HTTP control API.
    case api
    /// A key press: a provider's DTMF event or a tone detected in the caller's audio.
    case dtmf
    /// Spoken, as judged by the voice bot.
    case verbal
    /// Signalled inside the media stream itself (a protocol message).
    case inband
    /// Decided by the recording pipeline (for example, the tenant's mode requires no consent).
    case pipeline
}
