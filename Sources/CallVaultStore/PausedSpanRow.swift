import CallVaultModel
internal import GRDB

/// A paused span as a row of the `paused_spans` table: GRDB's side of a
/// ``PausedSpanRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct PausedSpanRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "paused_spans"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(PausedSpanRecord.CodingKeys.id)
        static let callId = Column(PausedSpanRecord.CodingKeys.callId)
        static let recordingId = Column(PausedSpanRecord.CodingKeys.recordingId)
        static let startMs = Column(PausedSpanRecord.CodingKeys.startMs)
        static let endMs = Column(PausedSpanRecord.CodingKeys.endMs)
    }

    var record: PausedSpanRecord

    init(_ record: PausedSpanRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try PausedSpanRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        record.id = inserted.rowID
    }
}
