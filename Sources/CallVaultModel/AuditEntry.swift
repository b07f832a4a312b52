public import Foundation

/// One entry of the append-only, hash-chained audit log: the `audit_log` row.
///
/// `hash` = SHA-256(`prevHash` ‖ canonical form of the entry), and `prevHash` is the hash of the
/// entry before (32 zero bytes for the first), so changing, removing or reordering an entry breaks
/// the chain where it happened. `details` is a JSON object of strings: ids and kinds only, never
/// tokens, key bytes, phone numbers, audio or transcript text.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var seq: Int64
    public var at: Date
    public var actor: String
    public var action: AuditAction
    public var tenantId: String?
    public var subjectId: String?
    /// A JSON object with sorted keys, e.g. `{"kind":"consent","method":"dtmf"}`.
    public var details: String
    public var prevHash: Data
    public var hash: Data

    public init(
        seq: Int64,
        at: Date,
        actor: String,
        action: AuditAction,
        tenantId: String?,
        subjectId: String?,
        details: String,
        prevHash: Data,
        hash: Data
    ) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.tenantId = tenantId
        self.subjectId = subjectId
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case seq, at, actor, action
        case tenantId = "tenant_id"
        case subjectId = "subject_id"
        case details
        case prevHash = "prev_hash"
        case hash
    }

    /// The details decoded as a dictionary (empty if the stored JSON is not an object of strings).
    public var detailValues: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:]
    }
}
