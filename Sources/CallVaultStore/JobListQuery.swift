public import CallVaultModel
public import Foundation

/// Which jobs a listing shows, newest first (by creation time, then id): some tenants', in one state, a
/// page after a keyset cursor (the last job of the page before), so a deep page costs what the first does.
public struct JobListQuery: Sendable {
    /// Only these tenants' jobs; nil: every tenant's. An empty list matches nothing.
    public var tenantIDs: [String]?
    /// Only jobs in this state.
    public var state: JobState?
    /// Jobs listed after this one (created before it, or at the same time with a smaller id).
    public var after: (createdAt: Date, id: String)?
    /// At most this many jobs.
    public var limit: Int

    public init(
        tenantIDs: [String]? = nil,
        state: JobState? = nil,
        after: (createdAt: Date, id: String)? = nil,
        limit: Int = 100
    ) {
        self.tenantIDs = tenantIDs
        self.state = state
        self.after = after
        self.limit = limit
    }
}
