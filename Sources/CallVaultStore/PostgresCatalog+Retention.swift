public import CallVaultModel
public import Foundation

extension PostgresCatalog {
    public func setHold(recordingID: String, held: Bool, reason: String?, actor: String, at: Date) async throws(CatalogError) -> RecordingRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func expiredRecordings(asOf now: Date) async throws(CatalogError) -> [RecordingRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func markRecordingShredded(id: String, actor: String, at: Date) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func markRecordingsShredded(ids: [String], actor: String, reason: String, at: Date) async throws(CatalogError) -> Int {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func expiredTranscripts(asOf now: Date) async throws(CatalogError) -> [TranscriptRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func markTranscriptsShredded(ids: [String], actor: String, reason: String, at: Date) async throws(CatalogError) -> Int {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func recordings(inCalls callIDs: [String]) async throws(CatalogError) -> [RecordingRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func transcripts(inCalls callIDs: [String]) async throws(CatalogError) -> [TranscriptRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
