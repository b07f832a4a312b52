public import CallVaultModel
public import Foundation

extension PostgresCatalog {
    public func transcriptExpiry(tenantID: String, createdAt: Date) async throws(CatalogError) -> Date {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func insertTranscript(_ transcript: TranscriptRecord, actor: String) async throws(CatalogError) {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func transcript(id: String, tenantID: String?) async throws(CatalogError) -> TranscriptRecord {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func transcripts(callID: String) async throws(CatalogError) -> [TranscriptRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func transcripts(tenantID: String?, limit: Int) async throws(CatalogError) -> [TranscriptRecord] {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
