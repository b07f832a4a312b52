public import CallVaultModel
public import Foundation

extension PostgresCatalog {
    public func recordingsLeftOpen() async throws(CatalogError) -> [RecordingRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func markRecordingInterrupted(id: String, durationMs: Int64, bytes: Int64, actor: String, details: [String: String], at: Date) async throws(CatalogError) -> AuditEntry {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func closeRecoveredRecording(id: String, state: RecordingState, durationMs: Int64, bytes: Int64, actor: String, details: [String: String], transcriptionEngine: String?, at: Date) async throws(CatalogError) -> (entry: AuditEntry, job: JobRecord?) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func queueMissingTranscriptionJobs(engine: String, at: Date) async throws(CatalogError) -> [String] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
