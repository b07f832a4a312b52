import CallVaultModel
import Foundation
internal import PostgresNIO

/// Row decoding for consent events, transcripts and the recordings a call summary lists, as
/// ``PostgresCatalog/tenant(from:)`` and ``PostgresCatalog/call(from:)`` do for tenants and calls: each
/// helper reads the columns of its `…Columns` list, in that order, and applies
/// ``Foundation/Date/postgresPrecision`` to every time.
extension PostgresCatalog {
    /// The columns ``consentEvent(from:)`` reads, in its order.
    static let consentEventColumns = "id, call_id, kind, method, at, frame_index, timeline_ms"
    typealias ConsentEventColumns = (Int64, String, String, String, Date, Int64?, Int64?)

    static func consentEvent(from row: ConsentEventColumns) throws(CatalogError) -> ConsentEventRecord {
        let (id, callID, kind, method, at, frameIndex, timelineMs) = row
        guard let eventKind = ConsentEventKind(rawValue: kind), let eventMethod = ConsentMethod(rawValue: method) else {
            throw CatalogError(
                .databaseFailure, "consent event \(id) of call \(callID) has a kind or method this binary does not know")
        }
        return ConsentEventRecord(
            id: id, callId: callID, kind: eventKind, method: eventMethod, at: at.postgresPrecision,
            frameIndex: frameIndex, timelineMs: timelineMs)
    }

    /// The columns ``transcript(from:)`` reads, in its order.
    static let transcriptColumns =
        "id, call_id, tenant_id, engine, path, state, created_at, expires_at, shredded_at, storage"
    typealias TranscriptColumns = (String, String, String, String, String, String, Date, Date, Date?, String?)

    static func transcript(from row: TranscriptColumns) throws(CatalogError) -> TranscriptRecord {
        let (id, callID, tenantID, engine, path, state, createdAt, expiresAt, shreddedAt, storage) = row
        guard let transcriptState = TranscriptRecord.State(rawValue: state) else {
            throw CatalogError(.databaseFailure, "transcript \(id) has a state this binary does not know")
        }
        return TranscriptRecord(
            id: id, callId: callID, tenantId: tenantID, engine: engine, path: path, state: transcriptState,
            createdAt: createdAt.postgresPrecision, expiresAt: expiresAt.postgresPrecision,
            shreddedAt: shreddedAt?.postgresPrecision, storage: try Self.storage(storage, of: id))
    }

    /// The columns ``recordingSummary(from:)`` reads, in its order: what a call summary lists of a
    /// recording (``RecordingSummary``), no more.
    static let recordingSummaryColumns = "id, call_id, tenant_id, track, state, codec, duration_ms, bytes, expires_at, hold"
    typealias RecordingSummaryColumns = (String, String, String, String, String, String, Int64, Int64, Date, Bool)

    static func recordingSummary(from row: RecordingSummaryColumns) throws(CatalogError) -> RecordingSummary {
        let (id, callID, tenantID, track, state, codec, durationMs, bytes, expiresAt, hold) = row
        guard let recordingTrack = RecordingTrack(rawValue: track), let recordingState = RecordingState(rawValue: state),
            let storageCodec = StorageCodec(rawValue: codec)
        else {
            throw CatalogError(.databaseFailure, "recording \(id) has a track, state or codec this binary does not know")
        }
        // RecordingSummary is made from a full record; the columns it does not show are left at their
        // defaults here and never leave this function.
        let expires = expiresAt.postgresPrecision
        return RecordingSummary(
            RecordingRecord(
                id: id, callId: callID, tenantId: tenantID, track: recordingTrack, state: recordingState,
                codec: storageCodec, sampleRate: 0, durationMs: durationMs, bytes: bytes, createdAt: expires,
                expiresAt: expires, hold: hold, path: ""))
    }

    /// The first column of the last row `query` returns, as text, run on `connection` (inside its
    /// transaction); nil when it returns no row. For the statements that answer with one outcome or id.
    func firstColumnText(of query: PostgresQuery, on connection: PostgresConnection) async throws -> String? {
        var found: String?
        for try await value in try await connection.query(query, logger: logger).decode(String.self) { found = value }
        return found
    }
}
