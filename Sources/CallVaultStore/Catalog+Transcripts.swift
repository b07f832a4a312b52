public import CallVaultModel
public import Foundation
internal import GRDB

/// Transcript rows: created by the transcription worker once the sealed file is on disk, read by
/// `transcripts show`, shredded by the sweeper or an erasure.
extension Catalog {
    /// When a transcript of `tenantID` made at `createdAt` expires: the tenant's transcript retention
    /// as it is now (later policy edits do not move transcripts already made).
    public func transcriptExpiry(tenantID: String, createdAt: Date) throws(CatalogError) -> Date {
        let days = try tenant(id: tenantID).policy.transcriptDays
        return createdAt.addingTimeInterval(Double(days) * 86_400).catalogPrecision
    }

    /// Inserts a transcript row and audits it (`transcript.created`, with `details` added) in one transaction.
    public func insertTranscript(_ transcript: TranscriptRecord, actor: String, details: [String: String] = [:])
        throws(CatalogError)
    {
        try write { db in
            // Refused with the words PostgreSQL uses (not as a constraint failure): the call must be the
            // transcript's tenant's, and an id is used once.
            guard let call = try CallRow.fetchOne(db, key: transcript.callId), call.record.tenantId == transcript.tenantId
            else {
                throw CatalogInputChecks.noCall(for: transcript)
            }
            guard try TranscriptRow.fetchOne(db, key: transcript.id) == nil else {
                throw CatalogInputChecks.duplicate(transcript)
            }
            try TranscriptRow(transcript).insert(db)
            try AuditLog.append(
                in: db, actor: actor, action: .transcriptCreated, tenantID: transcript.tenantId,
                subjectID: transcript.id,
                details: details.merging(["call": transcript.callId, "engine": transcript.engine]) { _, fixed in fixed },
                at: transcript.createdAt)
        }
    }

    /// One transcript; with `tenantID`, another tenant's transcript is reported as not found.
    public func transcript(id: String, tenantID: String? = nil) throws(CatalogError) -> TranscriptRecord {
        let transcript = try read { db in try TranscriptRow.fetchOne(db, key: id)?.record }
        guard let transcript, tenantID == nil || transcript.tenantId == tenantID else {
            throw CatalogError(.notFound, "no transcript with id \(id)")
        }
        return transcript
    }

    /// The transcripts of one call, oldest first (any state).
    public func transcripts(callID: String) throws(CatalogError) -> [TranscriptRecord] {
        try transcripts(inCalls: [callID])
    }

    /// Transcripts, newest first, optionally of one tenant.
    public func transcripts(tenantID: String? = nil, limit: Int = 1000) throws(CatalogError) -> [TranscriptRecord] {
        try read { db in
            var request = TranscriptRow.order(TranscriptRow.Columns.createdAt.desc)
            if let tenantID { request = request.filter(TranscriptRow.Columns.tenantId == tenantID) }
            return try request.limit(limit).fetchAll(db).map(\.record)
        }
    }
}
