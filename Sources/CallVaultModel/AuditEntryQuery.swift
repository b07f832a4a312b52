public import Foundation

/// Which audit entries a page shows: some tenants, an action, an actor, a subject (a call, recording or
/// job id), a time window, and a keyset cursor on the sequence number in either direction. Every filter is
/// SQL in the audit store (with indexes), so a filtered page reads a page of rows, not the log.
public struct AuditEntryQuery: Sendable, Equatable {
    /// Which way a page is read from its cursor.
    public enum Direction: Sendable, Equatable {
        /// Newest first, below `beforeSeq` (nil: from the head): the page and its Older link.
        case newestFirst(beforeSeq: Int64?)
        /// Oldest first, above `afterSeq`: the page just newer than one shown (the console reverses it).
        case oldestFirst(afterSeq: Int64)
    }

    /// Only these tenants' entries; nil: every entry (a global administrator). An empty list matches nothing.
    public var tenantIDs: [String]?
    /// Only entries of this action.
    public var action: AuditAction?
    /// Only entries of this actor, exactly as stored (`cli`, `console:NAME`, `sweeper`, …).
    public var actor: String?
    /// Only entries about this subject (the entry's `subject_id`: a call, recording, job or operator).
    public var subjectID: String?
    /// Entries at or after this time.
    public var from: Date?
    /// Entries before this time.
    public var before: Date?
    public var direction: Direction
    /// At most this many entries.
    public var limit: Int

    public init(
        tenantIDs: [String]? = nil, action: AuditAction? = nil, actor: String? = nil, subjectID: String? = nil,
        from: Date? = nil, before: Date? = nil, direction: Direction = .newestFirst(beforeSeq: nil), limit: Int = 100
    ) {
        self.tenantIDs = tenantIDs
        self.action = action
        self.actor = actor
        self.subjectID = subjectID
        self.from = from
        self.before = before
        self.direction = direction
        self.limit = limit
    }
}
