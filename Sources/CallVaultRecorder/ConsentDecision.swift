public import CallVaultModel

/// An event the gate accepted: what the caller stores as evidence (catalog and audit log).
public struct ConsentDecision: Sendable, Equatable {
    public var kind: ConsentEventKind
    public var method: ConsentMethod
    /// Where on the call's timeline it took effect: frames from here on follow the new state.
    public var timelineMs: Int64
    /// Whether frames are written after this event (consent given and not paused).
    public var recordingAfter: Bool
    /// For `resume`: the paused span it closes (start and end on the timeline), withheld from the audio.
    public var closedPause: PausedSpan?
}
