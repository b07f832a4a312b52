import CallVaultModel
internal import GRDB

/// A transcription job as a row of the `jobs` table: GRDB's side of a
/// ``JobRecord``, internal to the store.
///
/// The record's coding keys are the column names, so the row reads and writes through the record's
/// own `Codable` conformance, with the database row as its keyed container.
struct JobRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "jobs"

    /// The table's columns, named by the record's coding keys.
    enum Columns {
        static let id = Column(JobRecord.CodingKeys.id)
        static let callId = Column(JobRecord.CodingKeys.callId)
        static let recordingId = Column(JobRecord.CodingKeys.recordingId)
        static let tenantId = Column(JobRecord.CodingKeys.tenantId)
        static let engine = Column(JobRecord.CodingKeys.engine)
        static let state = Column(JobRecord.CodingKeys.state)
        static let priority = Column(JobRecord.CodingKeys.priority)
        static let attempts = Column(JobRecord.CodingKeys.attempts)
        static let leaseOwner = Column(JobRecord.CodingKeys.leaseOwner)
        static let leaseExpiresAt = Column(JobRecord.CodingKeys.leaseExpiresAt)
        static let runAfter = Column(JobRecord.CodingKeys.runAfter)
        static let lastError = Column(JobRecord.CodingKeys.lastError)
        static let createdAt = Column(JobRecord.CodingKeys.createdAt)
        static let updatedAt = Column(JobRecord.CodingKeys.updatedAt)
    }

    var record: JobRecord

    init(_ record: JobRecord) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try JobRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
