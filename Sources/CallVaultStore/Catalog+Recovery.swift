public import Foundation
import GRDB

extension Catalog {
    /// Marks a recording that a crash left in state `recording` as `interrupted`, with the duration
    /// and bytes start-up recovery found readable, and appends the `recording.recovered` audit entry
    /// in the same transaction: the state change and its evidence commit together or not at all.
    ///
    /// - Parameter details: what recovery found (parts, segments, how the file ended); no audio,
    ///   keys or phone numbers.
    @discardableResult
    public func markRecordingInterrupted(
        id: String,
        durationMs: Int64,
        bytes: Int64,
        actor: String = "recovery",
        details: [String: String] = [:],
        at: Date = Date()
    ) throws(CatalogError) -> AuditEntry {
        try write { db in
            guard let recording = try RecordingRecord.fetchOne(db, key: id), recording.state == .recording else {
                throw CatalogError(.notFound, "no recording being recorded with id \(id)")
            }
            try db.execute(
                sql: "UPDATE recordings SET state = ?, duration_ms = ?, bytes = ? WHERE id = ? AND state = 'recording'",
                arguments: [RecordingState.interrupted, durationMs, bytes, id]
            )
            var entryDetails = details
            entryDetails["durationMs"] = String(durationMs)
            entryDetails["bytes"] = String(bytes)
            return try AuditLog.append(
                in: db,
                actor: actor,
                action: .recordingRecovered,
                tenantID: recording.tenantId,
                subjectID: id,
                details: entryDetails,
                at: at.catalogPrecision
            )
        }
    }
}
