/// What happened to a call's consent; each one is evidence kept in the catalog and the audit log.
public enum ConsentEventKind: String, Sendable, Codable, CaseIterable {
    /// The bot played the AI and recording disclosure.
    case disclosure
    /// The caller agreed to be recorded.
    case consent
    /// The caller refused (or objected, in opt-out mode).
    case deny
    /// The caller withdrew a consent given earlier.
    case revoke
    /// Recording is suspended, for example while the caller reads a card number.
    case pause
    /// Recording goes on after a pause.
    case resume
}
