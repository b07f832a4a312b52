public import CallVaultModel
import Foundation
internal import GRDB

extension Catalog {
    /// Calls with their consent state and recordings, newest first; only one tenant's if given.
    ///
    /// Three queries whatever the number of calls (calls, then their events and their recordings by
    /// the ids found), so listing a busy tenant stays fast.
    public func callSummaries(tenantID: String? = nil, limit: Int? = nil) throws(CatalogError) -> [CallSummary] {
        try callSummaries(matching: CallSummaryQuery(tenantIDs: tenantID.map { [$0] }, limit: limit))
    }

    /// Calls of some tenants within a start-time window, in a state and with a consent outcome, newest
    /// first, after a keyset cursor: every filter is SQL on `calls` (indexes `calls_by_started`,
    /// `calls_by_tenant_started`, `calls_by_consent`, `calls_by_tenant_consent`, `calls_live*`), so a
    /// selective filter reads one page of rows, not the tenant's calls.
    public func callSummaries(matching query: CallSummaryQuery) throws(CatalogError) -> [CallSummary] {
        guard let (callFilter, arguments) = Self.callFilter(query) else { return [] }
        return try read { db in
            var consentStates: [String: CallConsentState] = [:]
            // The filter runs once; events and recordings are read for the ids it found (a JSON array, one
            // argument however many).
            let calls = try Row.fetchAll(db, sql: callFilter, arguments: arguments).map { row in
                let call = try CallRow(row: row).record
                consentStates[call.id] = CallConsentState(rawValue: row["consent_state"]) ?? .pending
                return call
            }
            let ids = String(decoding: try JSONEncoder().encode(calls.map(\.id)), as: UTF8.self)
            var kindsByCall: [String: [ConsentEventKind]] = [:]
            let events = try Row.fetchCursor(
                db,
                sql: "SELECT call_id, kind FROM consent_events WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                arguments: [ids]
            )
            while let row = try events.next() {
                if let kind = ConsentEventKind(rawValue: row["kind"]) {
                    kindsByCall[row["call_id"], default: []].append(kind)
                }
            }
            var recordingsByCall: [String: [RecordingSummary]] = [:]
            let recordings = try RecordingRow.fetchAll(
                db,
                sql: """
                    SELECT * FROM recordings WHERE call_id IN (SELECT value FROM json_each(?))
                    ORDER BY call_id, track, created_at, id
                    """,
                arguments: [ids]
            ).map(\.record)
            for recording in recordings {
                recordingsByCall[recording.callId, default: []].append(RecordingSummary(recording))
            }
            return calls.map { call in
                let kinds = kindsByCall[call.id] ?? []
                // The column the filter reads, folded when the events were stored: list and filter agree.
                return CallSummary(
                    id: call.id,
                    tenantId: call.tenantId,
                    externalId: call.externalId,
                    startedAt: call.startedAt,
                    endedAt: call.endedAt,
                    consentState: consentStates[call.id] ?? .pending,
                    consentEvents: kinds.count,
                    // The composite foreign key already ties a recording to its call's tenant; the
                    // check here keeps a listing correct even if that constraint were ever dropped.
                    recordings: (recordingsByCall[call.id] ?? []).filter { $0.tenantId == call.tenantId }
                )
            }
        }
    }

    /// The statement that reads a page's calls, or nil when the query matches nothing.
    static func callFilter(_ query: CallSummaryQuery) -> (String, StatementArguments)? {
        var callFilter = "SELECT * FROM calls"
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenantIDs = query.tenantIDs {
            if tenantIDs.isEmpty { return nil }
            conditions.append("tenant_id IN (\(Array(repeating: "?", count: tenantIDs.count).joined(separator: ", ")))")
            for tenantID in tenantIDs { arguments += [tenantID] }
        }
        if let from = query.startedFrom {
            conditions.append("started_at >= ?")
            arguments += [from.catalogPrecision]
        }
        if let before = query.startedBefore {
            conditions.append("started_at < ?")
            arguments += [before.catalogPrecision]
        }
        if let callIDs = query.callIDs {
            if callIDs.isEmpty { return nil }
            conditions.append("id IN (SELECT value FROM json_each(?))")
            guard let json = try? JSONEncoder().encode(callIDs) else { return nil }
            arguments += [String(decoding: json, as: UTF8.self)]
        }
        if let consent = query.consentState {
            conditions.append("consent_state = ?")
            arguments += [consent.rawValue]
        }
        switch query.state {
        case nil: break
        case .live: conditions.append("ended_at IS NULL")
        case .ended: conditions.append("ended_at IS NOT NULL")
        case let state?:
            conditions.append("EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = calls.id AND r.state = ?)")
            arguments += [state.rawValue]
        }
        if let after = query.after {
            // `started_at <= ?` repeats what the OR implies, so that the index is searched from the cursor on
            // (SQLite takes no range from an OR): a deep page reads what the first does.
            conditions.append("started_at <= ? AND (started_at < ? OR (started_at = ? AND id > ?))")
            arguments += [
                after.startedAt.catalogPrecision, after.startedAt.catalogPrecision, after.startedAt.catalogPrecision, after.id,
            ]
        }
        if !conditions.isEmpty { callFilter += " WHERE " + conditions.joined(separator: " AND ") }
        callFilter += " ORDER BY started_at DESC, id"
        if let limit = query.limit {
            callFilter += " LIMIT ?"
            arguments += [limit]
        }
        return (callFilter, arguments)
    }
}
