public import CallVaultModel
public import Foundation

/// The append-only, hash-chained audit log as a service, whatever stores it: the embedded SQLite
/// catalog (``SQLiteAuditStore``) or a shared PostgreSQL database (``PostgresAuditStore``) that nodes on
/// many machines append to.
///
/// Both backends keep **one global chain** and hash an entry the same way (``AuditLog`` 's canonical
/// fields: SHA-256 of the previous entry's hash and the entry's canonical encoding), so an entry hashed
/// on one backend verifies identically on the other, and ``verify()`` reports a changed, removed or
/// reordered entry with the same ``AuditVerification`` on both. Appends are serialised per chain, so
/// concurrent appenders (tasks, processes, nodes) never fork it: every entry gets the next sequence
/// number and links to the entry before.
///
/// Async because a network database answers after a round trip and must not block an event loop; the
/// SQLite backend does its short local transaction inline. The catalog's own operations that record
/// an action together with its evidence still append inside their transaction (``AuditLog``): this
/// interface is for appends that are the whole operation, reading and verifying.
public protocol AuditStore: Sendable {
    /// Appends `event` at the head of the chain and returns the stored entry: its sequence number, the
    /// time as stored (milliseconds), its canonical details, the previous entry's hash and its own.
    func append(_ event: AuditEvent) async throws(AuditStoreError) -> AuditEntry

    /// Entries by sequence number, optionally only one tenant's, after `afterSeq`, at most `limit`.
    func entries(tenantID: String?, afterSeq: Int64, limit: Int?) async throws(AuditStoreError) -> [AuditEntry]

    /// A page of entries matching `query` (tenants, action, actor, subject, time window), from its cursor in
    /// its direction, at most `query.limit`: the console's audit log. Every filter is SQL, so the page is
    /// one query however deep or selective (indexes: the primary key, `audit_log_by_tenant`, and
    /// `audit_log_by_action`, `_by_actor`, `_by_subject` from SQLite v20 / PostgreSQL 21; a date window narrows
    /// another walk).
    func entries(matching query: AuditEntryQuery) async throws(AuditStoreError) -> [AuditEntry]

    /// Walks the whole chain from the first entry and reports the first one that fails (changed,
    /// removed or moved), or that all verify and the head hash. A cut-off tail leaves a valid shorter
    /// chain: compare `headHash` with a copy kept elsewhere to see that.
    func verify() async throws(AuditStoreError) -> AuditVerification
}

extension AuditStore {
    /// Every entry, or one tenant's, in order.
    public func entries(tenantID: String? = nil) async throws(AuditStoreError) -> [AuditEntry] {
        try await entries(tenantID: tenantID, afterSeq: 0, limit: nil)
    }

    /// The newest entries first, before `beforeSeq` (nil: from the head), only these tenants' when
    /// given (an empty list matches nothing), at most `limit`: an unfiltered page of the console's audit log.
    public func latestEntries(tenantIDs: [String]?, beforeSeq: Int64?, limit: Int) async throws(AuditStoreError) -> [AuditEntry] {
        try await entries(
            matching: AuditEntryQuery(tenantIDs: tenantIDs, direction: .newestFirst(beforeSeq: beforeSeq), limit: limit))
    }

    /// The oldest entries first, after `afterSeq`, only these tenants' when given (an empty list matches
    /// nothing), at most `limit`: the console's page just newer than the one it shows.
    public func earliestEntries(tenantIDs: [String]?, afterSeq: Int64, limit: Int) async throws(AuditStoreError)
        -> [AuditEntry]
    {
        try await entries(
            matching: AuditEntryQuery(tenantIDs: tenantIDs, direction: .oldestFirst(afterSeq: afterSeq), limit: limit))
    }
}

/// What to record: who did what, about which tenant and subject, with which details, when.
public struct AuditEvent: Sendable, Equatable {
    public var actor: String
    public var action: AuditAction
    public var tenantID: String?
    public var subjectID: String?
    /// Ids and kinds only, never tokens, key bytes, phone numbers, audio or transcript text. Stored as
    /// a JSON object with sorted keys.
    public var details: [String: String]
    /// When it happened; stored with millisecond precision, in UTC.
    public var at: Date

    public init(
        actor: String,
        action: AuditAction,
        tenantID: String? = nil,
        subjectID: String? = nil,
        details: [String: String] = [:],
        at: Date = Date()
    ) {
        self.actor = actor
        self.action = action
        self.tenantID = tenantID
        self.subjectID = subjectID
        self.details = details
        self.at = at
    }
}

/// Why an audit store operation failed, with a message that says what to do. Messages name the database
/// (host, port, database name) but never a password, and never an entry's details.
public struct AuditStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The database cannot be reached, or refused the connection or its credentials.
        case unavailable
        /// A malformed argument (a negative limit, an empty actor).
        case invalidArgument
        /// The database's schema is newer than this binary knows: upgrade this node.
        case schemaTooNew
        /// The database refused or failed the operation.
        case databaseFailure
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The same failure reported by the PostgreSQL store's shared connection and migration code (which
    /// speaks in ``JobQueueError``s).
    init(_ error: JobQueueError) {
        let code: Code =
            switch error.code {
            case .unavailable: .unavailable
            case .schemaTooNew: .schemaTooNew
            case .invalidArgument: .invalidArgument
            case .notFound, .leaseLost, .databaseFailure: .databaseFailure
            }
        self.init(code, error.message)
    }

    /// The same failure reported by the SQLite catalog.
    init(_ error: CatalogError) {
        let code: Code =
            switch error.code {
            case .unavailable: .unavailable
            case .invalidArgument, .invalidPolicy: .invalidArgument
            default: .databaseFailure
            }
        self.init(code, error.message)
    }
}

/// Checks an audit chain entry by entry, in sequence order: the one walk both backends run, so they
/// report the same ``AuditVerification`` for the same rows.
struct AuditChainWalk {
    /// What ``check(seq:fields:storedPrev:storedHash:)`` found about one entry.
    enum Step {
        /// The entry verifies and links to the one before.
        case linked
        /// The chain is broken here (the walk is over).
        case broken(AuditVerification)
        /// The entry verifies but links to another hash than the entry before's: ask the store whether
        /// an entry holding `storedPrev` exists (entries were moved) or not (removed or rewritten), then
        /// call ``misLinked(seq:linksToAnotherEntry:)``.
        case misLinked(storedPrev: [UInt8])
    }

    private(set) var expectedSeq: Int64 = 1
    private(set) var prevHash = AuditLog.genesisHash
    private(set) var verified = 0

    /// Checks the next row. `fields`, `storedPrev` or `storedHash` is nil when its column does not hold
    /// a value of the right type (the row was edited outside the store).
    mutating func check(seq: Int64, fields: AuditLog.CanonicalFields?, storedPrev: [UInt8]?, storedHash: [UInt8]?)
        -> Step
    {
        if seq != expectedSeq {
            return .broken(.broken(seq: expectedSeq, reason: .removed, verifiedEntries: verified))
        }
        guard let fields, let storedPrev, let storedHash,
            CatalogHash.constantTimeEquals(AuditLog.entryHash(prevHash: storedPrev, fields: fields), storedHash)
        else {
            return .broken(.broken(seq: seq, reason: .edited, verifiedEntries: verified))
        }
        if !CatalogHash.constantTimeEquals(storedPrev, prevHash) {
            return .misLinked(storedPrev: storedPrev)
        }
        prevHash = storedHash
        expectedSeq += 1
        verified += 1
        return .linked
    }

    /// The verdict on an entry that ``check(seq:fields:storedPrev:storedHash:)`` found mis-linked:
    /// linking to a hash that another entry holds means entries were moved; linking to nothing means
    /// the entry before was removed or rewritten along with its hash.
    func misLinked(seq: Int64, linksToAnotherEntry: Bool) -> AuditVerification {
        .broken(seq: seq, reason: linksToAnotherEntry ? .reordered : .chainBroken, verifiedEntries: verified)
    }

    /// The verdict after the last row.
    var intact: AuditVerification { .intact(entries: verified, headHash: prevHash) }

    /// The verdict after the last row, held against the chain's head as the store recorded it with each
    /// append (PostgreSQL's `audit_head`): a walk that ends before the head means the last entries were
    /// deleted (which the links alone cannot show); one that ends at the head with another hash, that the
    /// last entry was rewritten along with its hash. (A walk past the head is not judged: rows added
    /// outside the store, or a copy whose head is moved after, as `migrate-store` does.)
    func ending(atHead seq: Int64, hash: [UInt8]) -> AuditVerification {
        let last = expectedSeq - 1
        if seq > last { return .broken(seq: last + 1, reason: .removed, verifiedEntries: verified) }
        if seq == last, seq > 0, !CatalogHash.constantTimeEquals(hash, prevHash) {
            return .broken(seq: last, reason: .edited, verifiedEntries: verified - 1)
        }
        return intact
    }
}

extension AuditEvent {
    /// `job.retried`: `job` (as it was before the retry) was queued again by `actor`. The details are the
    /// job's call, its engine and the state it left, the same whether the console or the CLI retried it.
    public static func jobRetried(_ job: JobRecord, actor: String, at: Date = Date()) -> AuditEvent {
        AuditEvent(
            actor: actor, action: .jobRetried, tenantID: job.tenantId, subjectID: job.id,
            details: ["callId": job.callId, "engine": job.engine, "from": job.state.rawValue], at: at)
    }
}
