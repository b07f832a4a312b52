/// What became of a consent event sent to a live call (`POST /v1/calls/{id}/events`), so the sender
/// is told the truth: applied and stored, refused by the gate, or not applied because its evidence
/// could not be stored.
public enum ConsentEventOutcome: Sendable, Equatable {
    /// Stored as evidence and in effect from the next frame; `recording` says whether audio is kept now.
    case applied(recording: Bool)
    /// The gate refused it (nothing to revoke, disclosure required first, the call ended): nothing changed.
    case refused(String)
    /// Its evidence could not be stored: it did not take effect, or (when it records nothing, such as
    /// a revoke) took effect with its evidence still to be stored.
    case notStored(String)
}
