public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Opens a sensitive window on a call at `atMs` of its timeline, audited in the same transaction; a
    /// window already open is returned as it is (a repeated start changes nothing).
    public func openSensitiveWindow(
        callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date
    ) throws(CatalogError) -> SensitiveWindow {
        guard atMs >= 0 else { throw CatalogError(.invalidArgument, "a sensitive window cannot start before 0 ms") }
        let at = at.catalogPrecision
        return try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            if let open = try Self.openWindow(db, callID: callID) { return open }
            try db.execute(
                sql: "INSERT INTO sensitive_windows (call_id, start_ms, source) VALUES (?, ?, ?)",
                arguments: [callID, atMs, source.rawValue])
            let window = SensitiveWindow(
                id: db.lastInsertedRowID, callId: callID, startMs: atMs, endMs: nil, source: source)
            try AuditLog.append(
                in: db, actor: actor, action: .sensitiveWindowOpened, tenantID: call.tenantId, subjectID: callID,
                details: ["atMs": String(atMs), "source": source.rawValue], at: at)
            return window
        }
    }

    /// Closes the call's open sensitive window at `atMs` (never before its start), audited; nil when none
    /// was open.
    @discardableResult
    public func closeSensitiveWindow(
        callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date
    ) throws(CatalogError) -> SensitiveWindow? {
        let at = at.catalogPrecision
        return try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            guard var open = try Self.openWindow(db, callID: callID) else { return nil }
            open.endMs = max(open.startMs, atMs)
            try db.execute(
                sql: "UPDATE sensitive_windows SET end_ms = ? WHERE id = ?", arguments: [open.endMs, open.id])
            try AuditLog.append(
                in: db, actor: actor, action: .sensitiveWindowClosed, tenantID: call.tenantId, subjectID: callID,
                details: ["atMs": String(open.endMs ?? atMs), "source": source.rawValue], at: at)
            return open
        }
    }

    /// A call's sensitive windows by start.
    public func sensitiveWindows(callID: String) throws(CatalogError) -> [SensitiveWindow] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, call_id, start_ms, end_ms, source FROM sensitive_windows WHERE call_id = ? ORDER BY start_ms, id",
                arguments: [callID]
            ).map(Self.window)
        }
    }

    private static func openWindow(_ db: Database, callID: String) throws -> SensitiveWindow? {
        try Row.fetchOne(
            db, sql: "SELECT id, call_id, start_ms, end_ms, source FROM sensitive_windows WHERE call_id = ? AND end_ms IS NULL ORDER BY id DESC LIMIT 1",
            arguments: [callID]
        ).map(window)
    }

    private static func window(_ row: Row) throws -> SensitiveWindow {
        let sourceName: String = row["source"]
        guard let source = SensitiveWindow.Source(rawValue: sourceName) else {
            throw CatalogError(.databaseFailure, "a sensitive window has a source this binary does not know")
        }
        return SensitiveWindow(id: row["id"], callId: row["call_id"], startMs: row["start_ms"], endMs: row["end_ms"], source: source)
    }
}
