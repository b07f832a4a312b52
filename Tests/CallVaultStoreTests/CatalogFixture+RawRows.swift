import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB

@testable import CallVaultStore

/// What the calls, transcripts and decryption conformance tests need beyond ``CatalogStore``, written
/// in each backend's own SQL so those tests do not depend on the catalog's recording methods: a
/// recording row in any state, a look at the paused spans, a statement of the test's own.
extension CatalogFixture {
    /// Inserts a recording of `call` as a row (no audit entry, no job), restricted and in `state` as asked.
    func insertRecordingRow(
        id: String, call: CallRecord, track: RecordingTrack, state: RecordingState = .complete, restricted: Bool = false,
        createdAt: Date = Date()
    ) async throws {
        let expiresAt = createdAt.addingTimeInterval(90 * 86_400)
        switch backend {
        case .sqlite:
            try await sqliteCatalog.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate, created_at,
                            expires_at, restricted, path)
                        VALUES (?, ?, ?, ?, ?, 'g711u', 8000, ?, ?, ?, ?)
                        """,
                    arguments: [
                        id, call.id, call.tenantId, track.rawValue, state.rawValue, createdAt, expiresAt, restricted,
                        "\(id).cvr",
                    ])
            }
        case .postgres:
            let stamp = ISO8601DateFormatter()
            stamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            try runSQL(
                """
                INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate, created_at, expires_at,
                    restricted, path)
                VALUES ('\(id)', '\(call.id)', '\(call.tenantId)', '\(track.rawValue)', '\(state.rawValue)', 'g711u', 8000,
                    '\(stamp.string(from: createdAt))', '\(stamp.string(from: expiresAt))', \(restricted), '\(id).cvr')
                """)
        }
    }

    /// A call's paused spans as (start, end) by start, read with SQL.
    func pausedSpanRows(callID: String) async throws -> [PausedSpan] {
        let rows: [(Int64, Int64?)]
        switch backend {
        case .sqlite:
            rows = try await sqliteCatalog.pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT start_ms, end_ms FROM paused_spans WHERE call_id = ? ORDER BY start_ms, id",
                    arguments: [callID]
                ).map { row -> (Int64, Int64?) in (row[0], row[1]) }
            }
        case .postgres:
            let output = try runSQL(
                "SELECT start_ms, coalesce(end_ms, -1) FROM paused_spans WHERE call_id = '\(callID)' ORDER BY start_ms, id")
            rows = output.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: "|").compactMap { Int64($0) }
                guard fields.count == 2 else { return nil }
                return (fields[0], fields[1] == -1 ? nil : fields[1])
            }
        }
        return rows.map { PausedSpan(startMs: $0.0, endMs: $0.1 ?? -1) }
    }

    /// How many rows `table` holds.
    func rowCount(_ table: String) async throws -> Int {
        switch backend {
        case .sqlite:
            return try await sqliteCatalog.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        case .postgres:
            return Int(try runSQL("SELECT count(*) FROM \(table)").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    /// Runs SQL of the test's own: `sqlite` on SQLite, `postgres` (default: the same text) on PostgreSQL.
    @discardableResult
    func runSQL(_ sqlite: String, postgres: String? = nil) throws -> String {
        switch backend {
        case .sqlite:
            try sqliteCatalog.pool.write { db in try db.execute(sql: sqlite) }
            return ""
        case .postgres:
            guard let postgresDatabase else { return "" }
            return try PostgresServer.shared().psql(database: postgresDatabase, postgres ?? sqlite)
        }
    }

    private var sqliteCatalog: Catalog {
        get throws {
            guard let catalog = catalog as? Catalog else { throw CatalogError(.unavailable, "not a SQLite catalog") }
            return catalog
        }
    }
}
