/// What one accepted consent decision must leave in the catalog before it may take effect: the
/// consent event (with its audit entry) and, for a `resume` or a call's end, the paused span it
/// closes. `Catalog.recordConsentEvidence(callID:_:actor:)` (in `CallVaultStore`) writes a batch in
/// one transaction.
public struct ConsentEvidence: Sendable, Equatable {
    public var kind: ConsentEventKind
    public var method: ConsentMethod
    /// Where on the call's timeline the decision applies from.
    public var timelineMs: Int64
    /// The paused span this decision closes, as (start, end) on the timeline.
    public var closedPause: PausedSpan?

    public init(kind: ConsentEventKind, method: ConsentMethod, timelineMs: Int64, closedPause: PausedSpan? = nil) {
        self.kind = kind
        self.method = method
        self.timelineMs = timelineMs
        self.closedPause = closedPause
    }
}
