import CallVaultModel
internal import GRDB

/// A recording as a row of the `recordings` table: GRDB's side of a
/// ``RecordingRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct RecordingRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "recordings"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(RecordingRecord.CodingKeys.id)
        static let callId = Column(RecordingRecord.CodingKeys.callId)
        static let tenantId = Column(RecordingRecord.CodingKeys.tenantId)
        static let track = Column(RecordingRecord.CodingKeys.track)
        static let state = Column(RecordingRecord.CodingKeys.state)
        static let codec = Column(RecordingRecord.CodingKeys.codec)
        static let sampleRate = Column(RecordingRecord.CodingKeys.sampleRate)
        static let durationMs = Column(RecordingRecord.CodingKeys.durationMs)
        static let bytes = Column(RecordingRecord.CodingKeys.bytes)
        static let createdAt = Column(RecordingRecord.CodingKeys.createdAt)
        static let expiresAt = Column(RecordingRecord.CodingKeys.expiresAt)
        static let hold = Column(RecordingRecord.CodingKeys.hold)
        static let holdReason = Column(RecordingRecord.CodingKeys.holdReason)
        static let restricted = Column(RecordingRecord.CodingKeys.restricted)
        static let path = Column(RecordingRecord.CodingKeys.path)
        static let shreddedAt = Column(RecordingRecord.CodingKeys.shreddedAt)
        static let node = Column(RecordingRecord.CodingKeys.node)
    }

    var record: RecordingRecord

    init(_ record: RecordingRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try RecordingRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
