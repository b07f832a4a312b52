public import CallVaultModel
import Foundation
internal import GRDB
internal import PostgresNIO

/// Copies an embedded data directory's catalog (`catalog.sqlite`: tenants, console operators, calls,
/// consent events, recordings, paused spans, transcripts, jobs and the audit log) into a PostgreSQL catalog, for
/// `callvault migrate-store`.
///
/// Rows keep their ids, times and states; the audit log is copied entry by entry as it is (its hashes
/// are over the stored text, which both backends keep alike) and the PostgreSQL chain head is moved to
/// its end, so `audit verify` on PostgreSQL finds the same chain with the same head hash. Each batch is
/// one transaction and skips rows already there, so a run that was killed is finished by running it
/// again. Meant for a stopped directory (no `serve`, `transcribe` or `sweep` running on it): a row that
/// changes in SQLite after it was copied is not copied again. After copying, the row counts of every
/// table and the whole audit chain are checked on both sides. Console sessions are not copied: operators
/// sign in again.
public enum StoreMigration {
    /// How one table went.
    public struct TableReport: Sendable, Codable, Equatable {
        public var table: String
        /// Rows in the SQLite catalog.
        public var source: Int
        /// Rows this run inserted (rows a previous run copied are skipped).
        public var copied: Int
        /// Rows in the PostgreSQL catalog after the run.
        public var target: Int
    }

    /// What a migration did and found.
    public struct Report: Sendable, Codable, Equatable {
        public var tables: [TableReport]
        /// Entries in the audit chain, and its head hash (hex), the same on both sides when verified.
        public var auditEntries: Int
        public var auditHeadHash: String
        /// Every table's counts match and the PostgreSQL chain verifies with the SQLite head hash.
        public var verified: Bool
        /// What did not match, when `verified` is false.
        public var mismatches: [String]
    }

    enum Kind { case text, integer, boolean, date, blob }

    struct Table {
        let name: String
        /// What rows are read in order of, a batch at a time: a unique column, or an expression over the
        /// columns of a composite key.
        let key: String
        let columns: [(String, Kind)]
        /// The table's id is an identity column: keep the SQLite ids, then move the sequence past them.
        var identity = false
    }

    /// In foreign-key order.
    static let tables: [Table] = [
        Table(
            name: "tenants", key: "id",
            columns: [
                ("id", .text), ("name", .text), ("token_hash", .blob), ("consent_mode", .text),
                ("require_disclosure", .boolean), ("consent_digit", .text), ("optout_digit", .text),
                ("voice_days", .integer), ("transcript_days", .integer), ("codec", .text),
                ("transcript_language", .text), ("transcript_model", .text), ("created_at", .date),
                ("updated_at", .date), ("sip_settings", .text), ("redact", .text),
                ("transcription", .text), ("client_certs", .text),
            ]),
        // Console operators (v13) with their optional TOTP second factor (v18, sealed since v22), and their roles.
        Table(
            name: "operators", key: "name",
            columns: [
                ("name", .text), ("password_hash", .text), ("global_admin", .boolean), ("created_at", .date),
                ("totp_secret", .blob), ("totp_last_step", .integer), ("totp_sealed", .blob),
            ]),
        Table(
            name: "operator_roles", key: "operator_name || char(31) || tenant_id",
            columns: [("operator_name", .text), ("tenant_id", .text), ("role", .text)]),
        Table(
            name: "calls", key: "id",
            columns: [
                ("id", .text), ("tenant_id", .text), ("external_id", .text), ("started_at", .date), ("ended_at", .date),
                ("caller_hash", .blob), ("caller_encrypted", .blob), ("consent_state", .text),
            ]),
        Table(
            name: "consent_events", key: "id",
            columns: [
                ("id", .integer), ("call_id", .text), ("kind", .text), ("method", .text), ("at", .date),
                ("frame_index", .integer), ("timeline_ms", .integer),
            ], identity: true),
        Table(
            name: "recordings", key: "id",
            columns: [
                ("id", .text), ("call_id", .text), ("tenant_id", .text), ("track", .text), ("state", .text),
                ("codec", .text), ("sample_rate", .integer), ("duration_ms", .integer), ("bytes", .integer),
                ("created_at", .date), ("expires_at", .date), ("hold", .boolean), ("hold_reason", .text),
                ("restricted", .boolean), ("path", .text), ("shredded_at", .date), ("node", .text),
                ("storage", .text), ("redacted_from", .text), ("redaction", .text),
            ]),
        Table(
            name: "paused_spans", key: "id",
            columns: [
                ("id", .integer), ("call_id", .text), ("recording_id", .text), ("start_ms", .integer), ("end_ms", .integer),
            ], identity: true),
        Table(
            name: "sensitive_windows", key: "id",
            columns: [
                ("id", .integer), ("call_id", .text), ("start_ms", .integer), ("end_ms", .integer), ("source", .text),
            ], identity: true),
        Table(
            name: "transcripts", key: "id",
            columns: [
                ("id", .text), ("call_id", .text), ("tenant_id", .text), ("engine", .text), ("path", .text),
                ("state", .text), ("created_at", .date), ("expires_at", .date), ("shredded_at", .date),
                ("storage", .text),
            ]),
        Table(
            name: "jobs", key: "id",
            columns: [
                ("id", .text), ("call_id", .text), ("recording_id", .text), ("tenant_id", .text), ("engine", .text),
                ("state", .text), ("priority", .integer), ("attempts", .integer), ("lease_owner", .text),
                ("lease_expires_at", .date), ("run_after", .date), ("last_error", .text), ("created_at", .date),
                ("updated_at", .date),
            ]),
        // Webhooks (v14): endpoints with their secrets as wrapped (under the tenant key, which moves with the
        // key store or stays where it is), and the outbox with its order.
        Table(
            name: "webhook_endpoints", key: "tenant_id",
            columns: [
                ("tenant_id", .text), ("url", .text), ("allow_private", .boolean), ("secret_id", .text),
                ("secret_wrapped", .blob), ("previous_secret_id", .text), ("previous_secret_wrapped", .blob),
                ("previous_until", .date), ("updated_at", .date),
            ]),
        Table(
            name: "webhook_outbox", key: "seq",
            columns: [
                ("seq", .integer), ("id", .text), ("tenant_id", .text), ("call_id", .text), ("type", .text),
                ("payload", .text), ("state", .text), ("attempts", .integer), ("next_attempt_at", .date),
                ("armed_at", .date), ("lease_owner", .text), ("lease_expires_at", .date), ("last_error", .text),
                ("created_at", .date), ("delivered_at", .date),
            ], identity: true),
        Table(
            name: "bot_utterances", key: "id",
            columns: [
                ("id", .integer), ("call_id", .text), ("utterance_id", .text), ("start_ms", .integer),
                ("end_ms", .integer), ("placement", .text), ("sealed_text", .blob),
            ], identity: true),
        // Copied as stored: `at` stays the text that was hashed.
        Table(
            name: "audit_log", key: "seq",
            columns: [
                ("seq", .integer), ("at", .text), ("actor", .text), ("action", .text), ("tenant_id", .text),
                ("subject_id", .text), ("details", .text), ("prev_hash", .blob), ("hash", .blob),
            ]),
    ]

    /// Copies `source` into `target` and verifies the copy. Throws before copying anything when the
    /// PostgreSQL audit log is not empty and not a beginning of the SQLite one (another directory's
    /// database), and when either side cannot be read or written.
    public static func copy(
        from source: Catalog, to target: PostgresCatalog, batchSize: Int = 1000,
        progress: (@Sendable (String, Int) -> Void)? = nil
    ) async throws(CatalogError) -> Report {
        try await checkAuditPrefix(source, target)
        var reports: [TableReport] = []
        for table in tables {
            var copied = 0
            var after: DatabaseValue = .null
            while true {
                let (rows, last) = try readBatch(table, from: source, after: after, limit: batchSize)
                if rows.isEmpty { break }
                copied += try await insert(rows, into: table, target: target)
                progress?(table.name, copied)
                after = last
                if rows.count < batchSize { break }
            }
            if table.identity { try await moveSequence(table, target: target) }
            reports.append(TableReport(table: table.name, source: 0, copied: copied, target: 0))
        }
        try await moveAuditHead(source, target)
        return try await verify(source, target, copied: reports)
    }

    // MARK: - Reading SQLite

    typealias Value = (any PostgresEncodable & Sendable)?

    /// A time in a SQLite cell that does not read as one.
    struct UnreadableTime: Error {}

    /// A SQLite cell as the value bound into PostgreSQL (nil for NULL), shared by the catalog's copy and
    /// the key store's (``KeyStoreMigration``).
    static func postgresValue(_ cell: DatabaseValue, as kind: Kind) throws(UnreadableTime) -> Value {
        if cell.isNull { return nil }
        switch kind {
        case .text: return String.fromDatabaseValue(cell)
        case .integer: return Int64.fromDatabaseValue(cell)
        case .boolean: return Bool.fromDatabaseValue(cell)
        case .blob: return Data.fromDatabaseValue(cell)
        case .date:
            guard let date = Date.fromDatabaseValue(cell) else { throw UnreadableTime() }
            return date.postgresPrecision
        }
    }

    static func readBatch(_ table: Table, from catalog: Catalog, after: DatabaseValue, limit: Int)
        throws(CatalogError) -> (rows: [[Value]], last: DatabaseValue)
    {
        let columns = table.columns.map(\.0).joined(separator: ", ")
        let condition = after.isNull ? "" : "WHERE \(table.key) > ?"
        let arguments: StatementArguments = after.isNull ? [] : [after]
        return try catalog.read { db in
            var rows: [[Value]] = []
            var last = DatabaseValue.null
            let cursor = try Row.fetchCursor(
                db,
                sql:
                    "SELECT \(columns), \(table.key) AS copy_key FROM \(table.name) \(condition) ORDER BY \(table.key) LIMIT \(limit)",
                arguments: arguments)
            while let row = try cursor.next() {
                last = row["copy_key"] as DatabaseValue
                rows.append(
                    try table.columns.map { name, kind throws -> Value in
                        do { return try postgresValue(row[name], as: kind) } catch {
                            throw CatalogError(
                                .databaseFailure, "\(table.name).\(name) holds a time SQLite cannot read: run `callvault audit verify`")
                        }
                    })
            }
            return (rows, last)
        }
    }

    // MARK: - Writing PostgreSQL

    /// One multi-row INSERT in its own transaction; rows already there are skipped. Returns how many
    /// were inserted.
    static func insert(_ rows: [[Value]], into table: Table, target: PostgresCatalog) async throws(CatalogError) -> Int {
        let query: PostgresQuery
        do {
            query = try insertQuery(
                rows, into: table.name, columns: table.columns.map(\.0), overridingIdentity: table.identity)
        } catch {
            throw CatalogError(.databaseFailure, "cannot encode a row of \(table.name) for PostgreSQL: \(type(of: error))")
        }
        return try await target.transaction("copy rows into \(table.name)") { connection in
            var inserted = 0
            for try await _ in try await connection.query(query, logger: target.logger) { inserted += 1 }
            return inserted
        }
    }

    /// One multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING 1` of `rows` (values in `columns` order),
    /// shared by the catalog's copy and the key store's (``KeyStoreMigration``). Throws what a value that
    /// cannot be encoded threw.
    static func insertQuery(_ rows: [[Value]], into table: String, columns: [String], overridingIdentity: Bool = false)
        throws -> PostgresQuery
    {
        let width = columns.count
        var bindings = PostgresBindings(capacity: rows.count * width)
        var tuples: [String] = []
        for (index, row) in rows.enumerated() {
            tuples.append("(" + (1...width).map { "$\(index * width + $0)" }.joined(separator: ", ") + ")")
            for value in row {
                if let value { try bindings.append(value) } else { bindings.appendNull() }
            }
        }
        let sql =
            "INSERT INTO \(table) (\(columns.joined(separator: ", ")))"
            + (overridingIdentity ? " OVERRIDING SYSTEM VALUE" : "") + " VALUES " + tuples.joined(separator: ", ")
            + " ON CONFLICT DO NOTHING RETURNING 1"
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// Moves an identity column's sequence past the ids copied, so new rows do not collide with them.
    static func moveSequence(_ table: Table, target: PostgresCatalog) async throws(CatalogError) {
        _ = try await target.perform("move the id sequence of \(table.name)") {
            try await target.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table.name)', '\(table.key)'), max(\(table.key)))
                        FROM \(table.name) HAVING max(\(table.key)) IS NOT NULL
                        """), logger: target.logger
            ).collect()
        }
    }

    // MARK: - The audit chain

    /// The PostgreSQL chain must be empty or end at an entry the SQLite chain has at the same place.
    static func checkAuditPrefix(_ source: Catalog, _ target: PostgresCatalog) async throws(CatalogError) {
        let head = try await auditHead(target)
        guard head.seq > 0 else { return }
        let local = try source.read { db in
            try Data.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [head.seq])
        }
        guard let local, local == head.hash else {
            throw CatalogError(
                .duplicate,
                "the audit log on \(target.location) has \(head.seq) entries that are not this catalog's: it is another "
                    + "directory's database; migrate into an empty database")
        }
    }

    static func auditHead(_ target: PostgresCatalog) async throws(CatalogError) -> (seq: Int64, hash: Data) {
        try await target.perform("read the audit chain's head") {
            var head: (Int64, Data) = (0, Data())
            for try await row in try await target.client.query(
                "SELECT seq, hash FROM audit_head WHERE id = 1", logger: target.logger
            ).decode((Int64, Data).self) {
                head = row
            }
            return head
        }
    }

    /// Points the PostgreSQL chain's head at the last entry copied.
    static func moveAuditHead(_ source: Catalog, _ target: PostgresCatalog) async throws(CatalogError) {
        _ = try await target.transaction("move the audit chain's head") { connection in
            try await connection.query(
                """
                UPDATE audit_head SET seq = last.seq, hash = last.hash
                FROM (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS last
                WHERE audit_head.id = 1 AND audit_head.seq < last.seq
                """, logger: target.logger)
        }
    }

    // MARK: - Verifying

    static func verify(_ source: Catalog, _ target: PostgresCatalog, copied: [TableReport]) async throws(CatalogError)
        -> Report
    {
        var reports = copied
        var mismatches: [String] = []
        for index in reports.indices {
            let name = reports[index].table
            let sourceCount = try source.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(name)") ?? 0 }
            let targetCount: Int = try await target.perform("count \(name)") {
                var count = 0
                let sql =
                    name == "jobs"
                    ? "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM job_archive)"
                    : "SELECT count(*) FROM \(name)"
                for try await found in try await target.client.query(PostgresQuery(unsafeSQL: sql), logger: target.logger)
                    .decode(Int.self)
                {
                    count = found
                }
                return count
            }
            reports[index].source = sourceCount
            reports[index].target = targetCount
            if sourceCount != targetCount {
                mismatches.append("\(name): \(sourceCount) rows in SQLite, \(targetCount) in PostgreSQL")
            }
        }
        let local = try source.auditLog.verify()
        let remote: AuditVerification
        do { remote = try await target.audit.verify() } catch {
            throw CatalogError(error.code == .unavailable ? .unavailable : .databaseFailure, error.message)
        }
        var entries = 0
        var headHash = ""
        switch (local, remote) {
        case (.intact(let count, let localHead), .intact(let remoteCount, let remoteHead)):
            entries = count
            headHash = localHead.map { String(format: "%02x", $0) }.joined()
            if count != remoteCount || localHead != remoteHead {
                mismatches.append("the audit chain: \(count) entries in SQLite, \(remoteCount) in PostgreSQL, heads differ")
            }
        case (.intact, _):
            mismatches.append("the audit chain does not verify on PostgreSQL: \(remote)")
        default:
            mismatches.append("the audit chain does not verify in SQLite (\(local)): run `callvault audit verify`")
        }
        return Report(
            tables: reports, auditEntries: entries, auditHeadHash: headHash, verified: mismatches.isEmpty,
            mismatches: mismatches)
    }
}
