public import Foundation

/// Which calls a listing shows, newest first: some tenants, a start-time window, a state and a consent
/// outcome (filtered in SQL, with indexes), and a keyset cursor
/// (the last call of the page before), so that a page costs the same however deep it is.
public struct CallSummaryQuery: Sendable, Equatable {
    /// Only these tenants' calls; nil: every tenant's. An empty list matches nothing.
    public var tenantIDs: [String]?
    /// Calls that started at or after this time.
    public var startedFrom: Date?
    /// Calls that started before this time.
    public var startedBefore: Date?
    /// Calls listed after this one (by start time, then id, descending).
    public var after: (startedAt: Date, id: String)?
    /// At most this many calls; nil: all.
    public var limit: Int?
    /// Only calls in this state (live, ended, or with a recording in that state).
    public var state: CallListState?
    /// Only calls whose consent outcome (the catalog's `calls.consent_state`) is this.
    public var consentState: CallConsentState?
    /// Only these calls (the calls of a caller found by number); nil: any. An empty list matches nothing.
    public var callIDs: [String]?

    public init(
        tenantIDs: [String]? = nil, startedFrom: Date? = nil, startedBefore: Date? = nil,
        after: (startedAt: Date, id: String)? = nil, limit: Int? = nil, state: CallListState? = nil,
        consentState: CallConsentState? = nil, callIDs: [String]? = nil
    ) {
        self.callIDs = callIDs
        self.state = state
        self.consentState = consentState
        self.tenantIDs = tenantIDs
        self.startedFrom = startedFrom
        self.startedBefore = startedBefore
        self.after = after
        self.limit = limit
    }

    public static func == (lhs: CallSummaryQuery, rhs: CallSummaryQuery) -> Bool {
        lhs.tenantIDs == rhs.tenantIDs && lhs.startedFrom == rhs.startedFrom && lhs.startedBefore == rhs.startedBefore
            && lhs.after?.startedAt == rhs.after?.startedAt && lhs.after?.id == rhs.after?.id && lhs.limit == rhs.limit
            && lhs.state == rhs.state && lhs.consentState == rhs.consentState && lhs.callIDs == rhs.callIDs
    }
}
