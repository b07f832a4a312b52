/// A call's consent as a listing shows it: the effect of its consent events under its tenant's mode.
///
/// A summary for people and scripts; the recorder's consent gate is the authority while the call runs.
public enum CallConsentState: String, Sendable, Codable, Equatable {
    /// No decision yet (opt-in: nothing recorded; opt-out: not yet disclosed).
    case pending
    /// The disclosure was played, no answer yet (opt-out: recording).
    case disclosed
    /// The caller consented (or, in opt-out, did not object); recording.
    case granted
    /// The caller refused or objected.
    case denied
    /// The caller withdrew consent.
    case revoked
    /// Recording is paused.
    case paused
    /// The tenant's mode needs no consent.
    case notRequired = "not-required"

    /// Folds a call's events, oldest first, into its current state.
    public static func summarize(mode: ConsentMode, kinds: [ConsentEventKind]) -> CallConsentState {
        var state: CallConsentState = mode == .notRequired ? .notRequired : .pending
        var beforePause = state
        for kind in kinds {
            switch kind {
            case .disclosure:
                if state == .pending { state = mode == .optOut ? .granted : .disclosed }
            case .consent:
                if state != .paused { state = .granted } else { beforePause = .granted }
            case .deny:
                state = .denied
            case .revoke:
                state = .revoked
            case .pause:
                if state != .paused {
                    beforePause = state
                    state = .paused
                }
            case .resume:
                if state == .paused { state = beforePause }
            }
        }
        return state
    }
}
