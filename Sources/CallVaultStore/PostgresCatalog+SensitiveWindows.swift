public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Opens a sensitive window (see ``Catalog``'s): the call's row is locked so two starts cannot both open one.
    public func openSensitiveWindow(
        callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date
    ) async throws(CatalogError) -> SensitiveWindow {
        guard atMs >= 0 else { throw CatalogError(.invalidArgument, "a sensitive window cannot start before 0 ms") }
        let at = at.postgresPrecision
        return try await transaction("open a sensitive window on call \(callID)") { connection in
            guard let tenantID = try await Self.lockCall(callID, on: connection, logger: self.logger) else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            if let open = try await Self.openWindow(callID, on: connection, logger: self.logger) { return open }
            var id: Int64 = 0
            for try await found in try await connection.query(
                """
                INSERT INTO sensitive_windows (call_id, start_ms, source) VALUES (\(callID), \(atMs), \(source.rawValue))
                RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = found
            }
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .sensitiveWindowOpened, tenantID: tenantID, subjectID: callID,
                    details: ["atMs": String(atMs), "source": source.rawValue], at: at),
                on: connection)
            return SensitiveWindow(id: id, callId: callID, startMs: atMs, endMs: nil, source: source)
        }
    }

    /// Closes the call's open sensitive window (see ``Catalog``'s); nil when none was open.
    @discardableResult
    public func closeSensitiveWindow(
        callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date
    ) async throws(CatalogError) -> SensitiveWindow? {
        let at = at.postgresPrecision
        return try await transaction("close a sensitive window on call \(callID)") { connection in
            guard let tenantID = try await Self.lockCall(callID, on: connection, logger: self.logger) else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            guard var open = try await Self.openWindow(callID, on: connection, logger: self.logger) else { return nil }
            let end = max(open.startMs, atMs)
            open.endMs = end
            _ = try await connection.query(
                "UPDATE sensitive_windows SET end_ms = \(end) WHERE id = \(open.id)", logger: self.logger)
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .sensitiveWindowClosed, tenantID: tenantID, subjectID: callID,
                    details: ["atMs": String(end), "source": source.rawValue], at: at),
                on: connection)
            return open
        }
    }

    public func sensitiveWindows(callID: String) async throws(CatalogError) -> [SensitiveWindow] {
        try await perform("read the sensitive windows of call \(callID)") {
            var windows: [SensitiveWindow] = []
            for try await row in try await self.client.query(
                """
                SELECT id, call_id, start_ms, end_ms, source FROM sensitive_windows WHERE call_id = \(callID)
                ORDER BY start_ms, id
                """, logger: self.logger
            ).decode((Int64, String, Int64, Int64?, String).self) {
                windows.append(try Self.window(row))
            }
            return windows
        }
    }

    private static func lockCall(_ callID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> String?
    {
        var tenantID: String?
        for try await found in try await connection.query(
            "SELECT tenant_id FROM calls WHERE id = \(callID) FOR UPDATE", logger: logger
        ).decode(String.self) {
            tenantID = found
        }
        return tenantID
    }

    private static func openWindow(_ callID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> SensitiveWindow?
    {
        var open: SensitiveWindow?
        for try await row in try await connection.query(
            """
            SELECT id, call_id, start_ms, end_ms, source FROM sensitive_windows
            WHERE call_id = \(callID) AND end_ms IS NULL ORDER BY id DESC LIMIT 1
            """, logger: logger
        ).decode((Int64, String, Int64, Int64?, String).self) {
            open = try window(row)
        }
        return open
    }

    private static func window(_ row: (Int64, String, Int64, Int64?, String)) throws(CatalogError) -> SensitiveWindow {
        guard let source = SensitiveWindow.Source(rawValue: row.4) else {
            throw CatalogError(.databaseFailure, "a sensitive window has a source this binary does not know")
        }
        return SensitiveWindow(id: row.0, callId: row.1, startMs: row.2, endMs: row.3, source: source)
    }
}
