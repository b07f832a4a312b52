import CallVaultModel
internal import GRDB

/// A call as a row of the `calls` table: GRDB's side of a
/// ``CallRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct CallRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "calls"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(CallRecord.CodingKeys.id)
        static let tenantId = Column(CallRecord.CodingKeys.tenantId)
        static let externalId = Column(CallRecord.CodingKeys.externalId)
        static let startedAt = Column(CallRecord.CodingKeys.startedAt)
        static let endedAt = Column(CallRecord.CodingKeys.endedAt)
        static let callerHash = Column(CallRecord.CodingKeys.callerHash)
        static let callerEncrypted = Column(CallRecord.CodingKeys.callerEncrypted)
    }

    var record: CallRecord

    init(_ record: CallRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try CallRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
