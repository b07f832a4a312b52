public import CallVaultModel
import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    /// Calls with their consent state and recordings, newest first; only one tenant's if given.
    ///
    /// Two statements whatever the number of calls (the calls with their consent outcome and their
    /// events' kinds, then their recordings), in one read-only transaction with one snapshot, as SQLite's
    /// read transaction gives: a listing never shows a call from one moment and its recordings from
    /// another. A negative `limit` lists every call, as SQLite's `LIMIT -1` does.
    public func callSummaries(tenantID: String?, limit: Int?) async throws(CatalogError) -> [CallSummary] {
        try await callSummaries(matching: CallSummaryQuery(tenantIDs: tenantID.map { [$0] }, limit: limit))
    }

    /// Calls of some tenants within a start-time window, in a state and with a consent outcome, newest
    /// first, after a keyset cursor; every filter in SQL, with the indexes of migration 20.
    public func callSummaries(matching query: CallSummaryQuery) async throws(CatalogError) -> [CallSummary] {
        var conditions: [String] = []
        var values: [(any PostgresEncodable & Sendable)?] = []
        if let tenantIDs = query.tenantIDs {
            if tenantIDs.isEmpty { return [] }
            values.append(tenantIDs)
            conditions.append("c.tenant_id = ANY($\(values.count))")
        }
        if let from = query.startedFrom {
            values.append(from.postgresPrecision)
            conditions.append("c.started_at >= $\(values.count)")
        }
        if let before = query.startedBefore {
            values.append(before.postgresPrecision)
            conditions.append("c.started_at < $\(values.count)")
        }
        if let callIDs = query.callIDs {
            if callIDs.isEmpty { return [] }
            values.append(callIDs)
            conditions.append("c.id = ANY($\(values.count))")
        }
        if let consent = query.consentState {
            values.append(consent.rawValue)
            conditions.append("c.consent_state = $\(values.count)")
        }
        switch query.state {
        case nil: break
        case .live: conditions.append("c.ended_at IS NULL")
        case .ended: conditions.append("c.ended_at IS NOT NULL")
        case let state?:
            values.append(state.rawValue)
            conditions.append("EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id AND r.state = $\(values.count))")
        }
        if let after = query.after {
            values.append(after.startedAt.postgresPrecision)
            values.append(after.id)
            conditions.append(
                // The first term repeats what the OR implies, so the index is searched from the cursor on.
                #"c.started_at <= $\#(values.count - 1) AND (c.started_at < $\#(values.count - 1) OR (c.started_at = $\#(values.count - 1) AND c.id COLLATE "C" > $\#(values.count)))"#)
        }
        var clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        values.append(query.limit.flatMap { $0 >= 0 ? $0 : nil })
        clause += #"ORDER BY c.started_at DESC, c.id COLLATE "C" LIMIT $\#(values.count)"#
        let sql = """
            SELECT c.id, c.tenant_id, c.external_id, c.started_at, c.ended_at, c.consent_state,
                ARRAY(SELECT e.kind FROM consent_events e WHERE e.call_id = c.id ORDER BY e.id)
            FROM calls c
            \(clause)
            """
        let binds = values
        let found: ([SummaryRow], [RecordingSummary]) = try await transaction("list calls") { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
            var bindings = PostgresBindings(capacity: binds.count)
            for value in binds {
                if let value { try bindings.append(value) } else { bindings.appendNull() }
            }
            var calls: [SummaryRow] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
                .decode((String, String, String, Date, Date?, String, [String]).self)
            {
                calls.append(SummaryRow(row))
            }
            guard !calls.isEmpty else { return ([], []) }
            var recordings: [RecordingSummary] = []
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.recordingSummaryColumns) FROM recordings WHERE call_id = ANY($1)
                        ORDER BY call_id COLLATE "C", track COLLATE "C", created_at, id COLLATE "C"
                        """,
                    binds: try Self.binds(calls.map(\.id))),
                logger: self.logger)
            for try await row in rows.decode(RecordingSummaryColumns.self) {
                recordings.append(try Self.recordingSummary(from: row))
            }
            return (calls, recordings)
        }
        var recordingsByCall: [String: [RecordingSummary]] = [:]
        for recording in found.1 { recordingsByCall[recording.callId, default: []].append(recording) }
        return found.0.map { call in
            let kinds = call.kinds.compactMap(ConsentEventKind.init(rawValue:))
            return CallSummary(
                id: call.id,
                tenantId: call.tenantID,
                externalId: call.externalID,
                startedAt: call.startedAt,
                endedAt: call.endedAt,
                consentState: CallConsentState(rawValue: call.consentState) ?? .pending,
                consentEvents: kinds.count,
                // As on SQLite: the composite foreign key already ties a recording to its call's tenant;
                // the check keeps a listing correct even if that constraint were ever dropped.
                recordings: (recordingsByCall[call.id] ?? []).filter { $0.tenantId == call.tenantID }
            )
        }
    }

    /// A call as a summary lists it: its columns (with its consent outcome) and its events' kinds.
    private struct SummaryRow: Sendable {
        let id: String
        let tenantID: String
        let externalID: String
        let startedAt: Date
        let endedAt: Date?
        let consentState: String
        let kinds: [String]

        init(_ row: (String, String, String, Date, Date?, String, [String])) {
            (id, tenantID, externalID) = (row.0, row.1, row.2)
            (startedAt, endedAt) = (row.3.postgresPrecision, row.4?.postgresPrecision)
            (consentState, kinds) = (row.5, row.6)
        }
    }
}
