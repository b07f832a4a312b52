public import CallVaultModel
public import Foundation

extension PostgresCatalog {
    public func createRecording(id: String?, callID: String, track: RecordingTrack, codec: StorageCodec, sampleRate: Int, path: String, createdAt: Date) async throws(CatalogError) -> RecordingRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recording(id: String, tenantID: String?) async throws(CatalogError) -> RecordingRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func updateRecordingProgress(_ updates: [RecordingProgress]) async throws(CatalogError) -> [String] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func finishRecording(id: String, state: RecordingState, durationMs: Int64, bytes: Int64) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func completeRecording(id: String, durationMs: Int64, bytes: Int64, transcriptionEngine: String, at: Date) async throws(CatalogError) -> JobRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func addPausedSpan(callID: String, recordingID: String?, startMs: Int64, endMs: Int64?) async throws(CatalogError) -> PausedSpanRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func closePausedSpan(id: Int64, endMs: Int64) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func pausedSpans(callID: String) async throws(CatalogError) -> [PausedSpanRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recordingSummaries(callID: String?, tenantID: String?) async throws(CatalogError) -> [RecordingSummary] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func setRestricted(recordingID: String, _ restricted: Bool, reason: String, actor: String, at: Date) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
