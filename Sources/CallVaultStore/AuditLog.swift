public import CallVaultModel
public import Foundation
internal import GRDB

/// The append-only, hash-chained audit log in the catalog.
///
/// Entries are appended inside the same write transaction as the action they record (pass the
/// `Database` of that transaction), so an action and its evidence commit or roll back together.
/// SQL triggers refuse UPDATE and DELETE; ``verify()`` still finds a change made around them (with
/// the triggers dropped, or by editing the file), because every entry's hash covers its content and
/// the hash of the entry before.
public struct AuditLog: Sendable {
    /// The `prevHash` of the first entry.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    let pool: DatabasePool

    /// Appends one entry in its own transaction.
    @discardableResult
    public func append(
        actor: String,
        action: AuditAction,
        tenantID: String? = nil,
        subjectID: String? = nil,
        details: [String: String] = [:],
        at: Date = Date()
    ) throws(CatalogError) -> AuditEntry {
        do {
            return try pool.write { db in
                try Self.append(
                    in: db,
                    actor: actor,
                    action: action,
                    tenantID: tenantID,
                    subjectID: subjectID,
                    details: details,
                    at: at
                )
            }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.databaseFailure, "cannot append to the audit log: \(Catalog.describe(error))")
        }
    }

    /// Appends one entry inside the caller's write transaction.
    ///
    /// The catalog's writes are serialized, so reading the last entry and inserting the next one in
    /// the same transaction cannot interleave with another append.
    @discardableResult
    static func append(
        in db: Database,
        actor: String,
        action: AuditAction,
        tenantID: String? = nil,
        subjectID: String? = nil,
        details: [String: String] = [:],
        at: Date = Date()
    ) throws -> AuditEntry {
        // Outside a transaction, reading the head and inserting the next entry could interleave
        // with another writer's commit, and the action could commit without its evidence.
        guard db.isInsideTransaction else {
            throw CatalogError(.invalidArgument, "audit entries are appended inside the action's write transaction")
        }
        let last = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let prevHash: [UInt8] = last.map { Array($0["hash"] as Data) } ?? genesisHash
        let sealed = try Sealed(
            seq: seq, prevHash: prevHash, actor: actor, action: action, tenantID: tenantID, subjectID: subjectID,
            details: details, at: at)
        // Cached statements: the sweeper appends one entry per shredded recording, in large batches.
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                seq, sealed.fields.at, actor, action.rawValue, tenantID, subjectID, sealed.fields.details,
                Data(prevHash), Data(sealed.hash),
            ]
        )
        // The webhook event this action reports (if any), in the same transaction as its evidence.
        if let draft = WebhookEventDraft(auditAction: action, tenantID: tenantID, subjectID: subjectID, details: details) {
            try Catalog.enqueueWebhook(draft, in: db, at: at)
        }
        return sealed.entry
    }

    /// Entries in order, optionally only one tenant's, starting after `afterSeq`, at most `limit`.
    public func entries(tenantID: String? = nil, afterSeq: Int64 = 0, limit: Int? = nil) throws(CatalogError)
        -> [AuditEntry]
    {
        do {
            return try pool.read { db in
                var request = AuditEntryRow.filter(AuditEntryRow.Columns.seq > afterSeq)
                    .order(AuditEntryRow.Columns.seq)
                if let tenantID { request = request.filter(AuditEntryRow.Columns.tenantId == tenantID) }
                if let limit { request = request.limit(limit) }
                return try request.fetchAll(db).map(\.record)
            }
        } catch {
            throw CatalogError(.databaseFailure, "cannot read the audit log: \(Catalog.describe(error))")
        }
    }

    /// A page of entries matching `query`, from its cursor in its direction: one statement with every
    /// filter in SQL (``filter(_:)``), reading the primary key or an index by column and sequence number, so
    /// a page costs about the same at any depth.
    public func entries(matching query: AuditEntryQuery) throws(CatalogError) -> [AuditEntry] {
        guard let (sql, arguments) = Self.filter(query) else { return [] }
        do {
            return try pool.read { db in try AuditEntryRow.fetchAll(db, sql: sql, arguments: arguments).map(\.record) }
        } catch {
            throw CatalogError(.databaseFailure, "cannot read the audit log: \(Catalog.describe(error))")
        }
    }

    /// The statement that reads a page of `query`, or nil when it matches nothing (no tenants).
    static func filter(_ query: AuditEntryQuery) -> (String, StatementArguments)? {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenantIDs = query.tenantIDs {
            if tenantIDs.isEmpty { return nil }
            conditions.append("tenant_id IN (\(Array(repeating: "?", count: tenantIDs.count).joined(separator: ", ")))")
            for tenantID in tenantIDs { arguments += [tenantID] }
        }
        if let action = query.action {
            conditions.append("action = ?")
            arguments += [action.rawValue]
        }
        if let actor = query.actor {
            conditions.append("actor = ?")
            arguments += [actor]
        }
        if let subjectID = query.subjectID {
            conditions.append("subject_id = ?")
            arguments += [subjectID]
        }
        // `at` is stored as the text that is hashed (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), which orders as time.
        if let from = query.from {
            conditions.append("at >= ?")
            arguments += [canonicalTime(from)]
        }
        if let before = query.before {
            conditions.append("at < ?")
            arguments += [canonicalTime(before)]
        }
        let order: String
        switch query.direction {
        case .newestFirst(let beforeSeq):
            if let beforeSeq {
                conditions.append("seq < ?")
                arguments += [beforeSeq]
            }
            order = "seq DESC"
        case .oldestFirst(let afterSeq):
            conditions.append("seq > ?")
            arguments += [afterSeq]
            order = "seq"
        }
        var sql = "SELECT * FROM audit_log"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY \(order) LIMIT ?"
        arguments += [query.limit]
        return (sql, arguments)
    }

    /// Walks the whole chain and reports the first entry that fails, or that all verify.
    ///
    /// Reads raw column values (not decoded Swift values) so what is checked is exactly what is
    /// stored. A cut-off tail cannot be seen from inside the log: compare `headHash` with a copy
    /// kept elsewhere for that.
    public func verify() throws(CatalogError) -> AuditVerification {
        do {
            return try pool.read { db in try Self.verify(db) }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.databaseFailure, "cannot read the audit log: \(Catalog.describe(error))")
        }
    }

    static func verify(_ db: Database) throws -> AuditVerification {
        var walk = AuditChainWalk()
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash
                FROM audit_log ORDER BY seq
                """
        )
        while let row = try rows.next() {
            let seq: Int64 = row["seq"]
            // A hash column holding something else than bytes (edited outside the store) is nil, not a trap.
            switch walk.check(
                seq: seq, fields: CanonicalFields(row: row),
                storedPrev: Data.fromDatabaseValue(row["prev_hash"] as DatabaseValue).map(Array.init),
                storedHash: Data.fromDatabaseValue(row["hash"] as DatabaseValue).map(Array.init))
            {
            case .linked: continue
            case .broken(let verdict): return verdict
            case .misLinked(let storedPrev):
                let elsewhere =
                    try Bool.fetchOne(
                        db,
                        sql: "SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash = ?)",
                        arguments: [Data(storedPrev)]
                    ) ?? false
                return walk.misLinked(seq: seq, linksToAnotherEntry: elsewhere)
            }
        }
        return walk.intact
    }

    /// Details as a JSON object with sorted keys, so equal details always serialize alike.
    static func canonicalJSON(_ details: [String: String]) throws -> String {
        // Written by hand (sorted keys, no whitespace, minimal escapes): JSONEncoder costs more than
        // the rest of an append, and the sweeper appends one entry per shredded recording.
        var text = "{"
        for (index, key) in details.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            appendJSONString(key, to: &text)
            text += ":"
            appendJSONString(details[key] ?? "", to: &text)
        }
        return text + "}"
    }

    /// Appends `value` as a JSON string literal (RFC 8259 escapes).
    static func appendJSONString(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
