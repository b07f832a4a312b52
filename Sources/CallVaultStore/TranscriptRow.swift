import CallVaultModel
internal import GRDB

/// A transcript as a row of the `transcripts` table: GRDB's side of a
/// ``TranscriptRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct TranscriptRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "transcripts"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(TranscriptRecord.CodingKeys.id)
        static let callId = Column(TranscriptRecord.CodingKeys.callId)
        static let tenantId = Column(TranscriptRecord.CodingKeys.tenantId)
        static let engine = Column(TranscriptRecord.CodingKeys.engine)
        static let path = Column(TranscriptRecord.CodingKeys.path)
        static let state = Column(TranscriptRecord.CodingKeys.state)
        static let createdAt = Column(TranscriptRecord.CodingKeys.createdAt)
        static let expiresAt = Column(TranscriptRecord.CodingKeys.expiresAt)
        static let shreddedAt = Column(TranscriptRecord.CodingKeys.shreddedAt)
    }

    var record: TranscriptRecord

    init(_ record: TranscriptRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try TranscriptRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
