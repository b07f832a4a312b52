import CallVaultModel
internal import GRDB

/// A consent event as a row of the `consent_events` table: GRDB's side of a
/// ``ConsentEventRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct ConsentEventRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "consent_events"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(ConsentEventRecord.CodingKeys.id)
        static let callId = Column(ConsentEventRecord.CodingKeys.callId)
        static let kind = Column(ConsentEventRecord.CodingKeys.kind)
        static let method = Column(ConsentEventRecord.CodingKeys.method)
        static let at = Column(ConsentEventRecord.CodingKeys.at)
        static let frameIndex = Column(ConsentEventRecord.CodingKeys.frameIndex)
        static let timelineMs = Column(ConsentEventRecord.CodingKeys.timelineMs)
    }

    var record: ConsentEventRecord

    init(_ record: ConsentEventRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try ConsentEventRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        record.id = inserted.rowID
    }
}
