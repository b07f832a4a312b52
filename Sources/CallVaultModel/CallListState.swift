/// A state a call list can be filtered by: live or ended calls, or calls with a recording in a state.
public enum CallListState: String, Sendable, Codable, CaseIterable {
    /// Not ended yet.
    case live
    /// Ended.
    case ended
    /// With a recording that is complete.
    case complete
    /// With a recording that was interrupted.
    case interrupted
    /// With a recording that was shredded.
    case shredded
}
