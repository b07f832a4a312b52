public import CallVaultModel
public import Foundation

extension PostgresCatalog {
    public func auditRecordingDecryption(recordingID: String, tenantID: String?, actor: String, purpose: String, details: [String: String], restrictionOverride: RestrictionOverride?, at: Date) async throws(CatalogError) -> DecryptionAudit {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

    public func auditTranscriptDecryption(transcriptID: String, tenantID: String?, actor: String, purpose: String, details: [String: String], restrictionOverride: RestrictionOverride?, at: Date) async throws(CatalogError) -> DecryptionAudit {
        throw CatalogError(.unavailable, "\(location): \(#function) is not built on PostgreSQL yet")
    }

}
