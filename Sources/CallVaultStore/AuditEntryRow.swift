import CallVaultModel
internal import GRDB

/// An audit entry as a row of the `audit_log` table: GRDB's side of a
/// ``AuditEntry``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct AuditEntryRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_log"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let seq = Column(AuditEntry.CodingKeys.seq)
        static let at = Column(AuditEntry.CodingKeys.at)
        static let actor = Column(AuditEntry.CodingKeys.actor)
        static let action = Column(AuditEntry.CodingKeys.action)
        static let tenantId = Column(AuditEntry.CodingKeys.tenantId)
        static let subjectId = Column(AuditEntry.CodingKeys.subjectId)
        static let details = Column(AuditEntry.CodingKeys.details)
        static let prevHash = Column(AuditEntry.CodingKeys.prevHash)
        static let hash = Column(AuditEntry.CodingKeys.hash)
    }

    var record: AuditEntry

    init(_ record: AuditEntry) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try AuditEntry(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
