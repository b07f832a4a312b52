import CallVaultModel
import Foundation
internal import PostgresNIO

/// Row decoding for recordings, paused spans and the transcripts retention lists: the PostgreSQL side of
/// ``RecordingRecord``, ``PausedSpanRecord`` and ``TranscriptRecord`` (the SQLite side is `RecordingRow`,
/// `PausedSpanRow`, `TranscriptRow`). Every time read goes through ``Foundation/Date/postgresPrecision``.
extension PostgresCatalog {
    /// The columns ``recording(from:)`` reads, in its order (20: more than a decoded tuple takes).
    static let recordingColumns = recordingColumns(prefix: "")

    static func recordingColumns(prefix: String) -> String {
        [
            "id", "call_id", "tenant_id", "track", "state", "codec", "sample_rate", "duration_ms", "bytes", "created_at",
            "expires_at", "hold", "hold_reason", "restricted", "path", "shredded_at", "node", "storage",
            "redacted_from", "redaction",
        ].map { prefix + $0 }.joined(separator: ", ")
    }

    static func recording(from row: PostgresRow) throws -> RecordingRecord {
        let cells = Array(row)
        func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type) throws -> T {
            try cells[index].decode(T.self, context: .default)
        }
        let id = try cell(0, String.self)
        let (trackName, stateName, codecName) = (try cell(3, String.self), try cell(4, String.self), try cell(5, String.self))
        guard let track = RecordingTrack(rawValue: trackName), let state = RecordingState(rawValue: stateName),
            let codec = StorageCodec(rawValue: codecName)
        else {
            throw CatalogError(.databaseFailure, "recording \(id) has a track, state or codec this binary does not know")
        }
        return RecordingRecord(
            id: id, callId: try cell(1, String.self), tenantId: try cell(2, String.self), track: track, state: state,
            codec: codec, sampleRate: try cell(6, Int.self), durationMs: try cell(7, Int64.self),
            bytes: try cell(8, Int64.self), createdAt: try cell(9, Date.self).postgresPrecision,
            expiresAt: try cell(10, Date.self).postgresPrecision, hold: try cell(11, Bool.self),
            holdReason: try cell(12, String?.self), restricted: try cell(13, Bool.self), path: try cell(14, String.self),
            shreddedAt: try cell(15, Date?.self)?.postgresPrecision, node: try cell(16, String?.self),
            storage: try storage(try cell(17, String?.self), of: id), redactedFrom: try cell(18, String?.self),
            redaction: try redaction(try cell(19, String?.self), of: id))
    }

    /// A `redaction` cell (JSON) as ``RecordingRedaction``; unreadable JSON is an error, not nil.
    static func redaction(_ value: String?, of id: String) throws(CatalogError) -> RecordingRedaction? {
        guard let value else { return nil }
        do { return try JSONDecoder().decode(RecordingRedaction.self, from: Data(value.utf8)) } catch {
            throw CatalogError(.databaseFailure, "recording \(id) has a redaction record this binary cannot read")
        }
    }

    /// A `storage` cell as ``SealedStorage``; a value this binary does not know is an error, not nil.
    static func storage(_ value: String?, of id: String) throws(CatalogError) -> SealedStorage? {
        guard let value else { return nil }
        guard let storage = SealedStorage(rawValue: value) else {
            throw CatalogError(.databaseFailure, "\(id) has a storage state (\(value)) this binary does not know")
        }
        return storage
    }

    /// Recordings matching `clause` (a WHERE and/or ORDER BY over the recordings table).
    func recordings(where clause: String, _ binds: PostgresBindings) async throws -> [RecordingRecord] {
        try await recordings(
            client.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.recordingColumns) FROM recordings \(clause)", binds: binds),
                logger: logger))
    }

    func recordings(_ rows: PostgresRowSequence) async throws -> [RecordingRecord] {
        var recordings: [RecordingRecord] = []
        for try await row in rows { recordings.append(try Self.recording(from: row)) }
        return recordings
    }

    /// The columns ``pausedSpan(from:)`` reads, in its order.
    static let pausedSpanColumns = "id, call_id, recording_id, start_ms, end_ms"
    typealias PausedSpanColumns = (Int64, String, String?, Int64, Int64?)

    static func pausedSpan(from row: PausedSpanColumns) -> PausedSpanRecord {
        PausedSpanRecord(id: row.0, callId: row.1, recordingId: row.2, startMs: row.3, endMs: row.4)
    }
}
