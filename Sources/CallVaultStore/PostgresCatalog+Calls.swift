public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    public func registerCall(
        tenantID: String, externalID: String, callerNumber: String?, startedAt: Date, actor: String,
        callerKeys: CallerKeys?
    ) async throws(CatalogError) -> CallRecord {
        guard !externalID.isEmpty, externalID.utf8.count <= 200 else {
            throw CatalogError(.invalidArgument, "a call id must have 1 to 200 bytes")
        }
        let startedAt = startedAt.postgresPrecision
        let callID = Catalog.newID()
        let (callerHash, callerEncrypted) = try PhoneNumberHash.callerColumns(
            callerNumber, keys: callerKeys, tenantID: tenantID, callID: callID)
        let call = CallRecord(
            id: callID, tenantId: tenantID, externalId: externalID, startedAt: startedAt, callerHash: callerHash,
            callerEncrypted: callerEncrypted)
        let event = AuditEvent(
            actor: actor, action: .callStarted, tenantID: tenantID, subjectID: callID,
            details: ["externalId": externalID], at: startedAt)
        try await transaction("register call \(externalID)") { connection in
            // The tenant must exist (the foreign key says so too, with a less helpful message); a second
            // registration of the same platform id is refused without aborting on the unique key.
            let outcome = try await self.firstColumnText(
                of: """
                WITH t AS (SELECT id, consent_mode FROM tenants WHERE id = \(tenantID)),
                c AS (
                    INSERT INTO calls (id, tenant_id, external_id, started_at, caller_hash, caller_encrypted, consent_state)
                    SELECT \(callID), t.id, \(externalID), \(startedAt), \(callerHash), \(callerEncrypted),
                        CASE WHEN t.consent_mode = 'not-required' THEN 'not-required' ELSE 'pending' END FROM t
                    ON CONFLICT (tenant_id, external_id) DO NOTHING
                    RETURNING id)
                SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'no tenant'
                    WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'duplicate' ELSE 'inserted' END
                """, on: connection)
            switch outcome {
            case "inserted": break
            case "no tenant": throw CatalogError(.notFound, "no tenant with id \(tenantID)")
            default: throw CatalogError(.duplicate, "call \(externalID) is already registered for this tenant")
            }
            try await self.appendAudit(event, on: connection)
        }
        return call
    }

    public func call(id: String, tenantID: String?) async throws(CatalogError) -> CallRecord {
        let found: CallRecord? = try await perform("read call \(id)") {
            try await self.calls(where: "WHERE id = $1", try Self.binds(id)).first
        }
        guard let found, tenantID == nil || found.tenantId == tenantID else {
            throw CatalogError(.notFound, "no call with id \(id)")
        }
        return found
    }

    public func call(tenantID: String, externalID: String) async throws(CatalogError) -> CallRecord? {
        try await perform("find call \(externalID)") {
            try await self.calls(where: "WHERE tenant_id = $1 AND external_id = $2", try Self.binds(tenantID, externalID))
                .first
        }
    }

    /// Calls matching `clause` (a WHERE and/or ORDER BY over the calls table).
    func calls(where clause: String, _ binds: PostgresBindings) async throws -> [CallRecord] {
        var calls: [CallRecord] = []
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.callColumns) FROM calls \(clause)", binds: binds), logger: logger)
        for try await row in rows.decode(CallColumns.self) { calls.append(Self.call(from: row)) }
        return calls
    }

    public func endCall(id: String, closingPause: PausedSpan?, at: Date) async throws(CatalogError) {
        try CatalogInputChecks.check(closingPause)
        let at = at.postgresPrecision
        let (startMs, endMs) = (closingPause?.startMs, closingPause?.endMs)
        // One statement, so atomic on its own: the call is ended and the pause its end closed is stored,
        // or neither (a call is never shown ended with a pause still open).
        // With its webhook event (when the tenant has an endpoint) in the same transaction.
        let logger = self.logger
        let ended: Bool = try await transaction("end call \(id)") { connection in
            var tenantID: String?
            for try await tenant in try await connection.query(
                """
                WITH c AS (UPDATE calls SET ended_at = \(at) WHERE id = \(id) RETURNING id, tenant_id),
                s AS (
                    INSERT INTO paused_spans (call_id, start_ms, end_ms)
                    SELECT c.id, \(startMs), \(endMs) FROM c WHERE \(closingPause != nil)
                    RETURNING id)
                SELECT c.tenant_id FROM c
                """, logger: logger
            ).decode(String.self) {
                tenantID = tenant
            }
            guard let tenantID else { return false }
            try await PostgresCatalog.enqueueWebhook(.callEnded(callID: id, tenantID: tenantID), on: connection, at: at, logger: logger)
            return true
        }
        guard ended else { throw CatalogError(.notFound, "no call with id \(id)") }
    }

    public func calls(externalID: String) async throws(CatalogError) -> [CallRecord] {
        // SQLite's COLLATE NOCASE folds ASCII letters only; lower() under the "C" collation does the same
        // (a non-ASCII letter is matched as it is), so both backends find the same calls.
        try await perform("find calls \(externalID)") {
            try await self.calls(
                where: #"WHERE lower(external_id COLLATE "C") = lower($1 COLLATE "C") ORDER BY started_at, id COLLATE "C""#,
                try Self.binds(externalID))
        }
    }

    public func calls(tenantID: String, callerNumber: String, callerKeys: CallerKeys) async throws(CatalogError)
        -> [CallRecord]
    {
        _ = try await tenant(id: tenantID)
        let hash = Data(try PhoneNumberHash.hash(callerNumber, key: callerKeys.hashKey))
        return try await perform("find a caller's calls") {
            try await self.calls(
                where: #"WHERE tenant_id = $1 AND caller_hash = $2 ORDER BY started_at, id COLLATE "C""#,
                try Self.binds(tenantID, hash))
        }
    }

    public func recordConsentEvent(
        callID: String, kind: ConsentEventKind, method: ConsentMethod, at: Date, frameIndex: Int64?, timelineMs: Int64?,
        actor: String
    ) async throws(CatalogError) -> ConsentEventRecord {
        try CatalogInputChecks.checkPosition(frameIndex: frameIndex, timelineMs: timelineMs)
        let at = at.postgresPrecision
        return try await transaction("record a consent event of call \(callID)") { connection in
            guard
                let stored = try await self.insertConsentEvent(
                    callID: callID, kind: kind, method: method, at: at, frameIndex: frameIndex, timelineMs: timelineMs,
                    closedPause: nil, on: connection)
            else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            try await self.refoldConsentState(callID: callID, on: connection)
            try await self.appendAudit(
                Self.consentAuditEvent(stored.event, tenantID: stored.tenantID, actor: actor), on: connection)
            return stored.event
        }
    }

    public func recordConsentEvidence(callID: String, _ evidence: [ConsentEvidence], actor: String, at: Date)
        async throws(CatalogError) -> [ConsentEventRecord]
    {
        try CatalogInputChecks.check(evidence)
        let at = at.postgresPrecision
        return try await transaction("record the consent evidence of call \(callID)") { connection in
            guard !evidence.isEmpty else {
                _ = try await self.tenantID(ofCall: callID, on: connection)
                return []
            }
            // Events and the spans they close first, then their audit entries in the same order: the
            // append locks the chain's head, so it comes last and holds the lock only until the commit.
            var stored: [(tenantID: String, event: ConsentEventRecord)] = []
            for item in evidence {
                guard
                    let one = try await self.insertConsentEvent(
                        callID: callID, kind: item.kind, method: item.method, at: at, frameIndex: nil,
                        timelineMs: item.timelineMs, closedPause: item.closedPause, on: connection)
                else {
                    throw CatalogError(.notFound, "no call with id \(callID)")
                }
                stored.append(one)
            }
            try await self.refoldConsentState(callID: callID, on: connection)
            for (tenantID, event) in stored {
                try await self.appendAudit(Self.consentAuditEvent(event, tenantID: tenantID, actor: actor), on: connection)
            }
            return stored.map(\.event)
        }
    }

    public func recordCallEndedByLimit(
        callID: String, limit: String, details: [String: String], actor: String, at: Date
    ) async throws(CatalogError) -> AuditEntry {
        var entryDetails = details
        entryDetails["limit"] = limit
        let at = at.postgresPrecision
        return try await transaction("audit the end of call \(callID) by a limit") { [entryDetails] connection in
            let tenantID = try await self.tenantID(ofCall: callID, on: connection)
            return try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .callEndedByLimit, tenantID: tenantID, subjectID: callID, details: entryDetails,
                    at: at),
                on: connection)
        }
    }

    public func consentEvents(callID: String) async throws(CatalogError) -> [ConsentEventRecord] {
        try await perform("read the consent events of call \(callID)") {
            var events: [ConsentEventRecord] = []
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.consentEventColumns) FROM consent_events WHERE call_id = $1 ORDER BY id",
                    binds: try Self.binds(callID)),
                logger: self.logger)
            for try await row in rows.decode(ConsentEventColumns.self) { events.append(try Self.consentEvent(from: row)) }
            return events
        }
    }

    // MARK: - Consent evidence in a transaction

    /// The tenant of call `callID`, read on `connection`; `notFound` if there is no such call.
    private func tenantID(ofCall callID: String, on connection: PostgresConnection) async throws -> String {
        guard let tenantID = try await firstColumnText(of: "SELECT tenant_id FROM calls WHERE id = \(callID)", on: connection)
        else {
            throw CatalogError(.notFound, "no call with id \(callID)")
        }
        return tenantID
    }

    /// Inserts one consent event of call `callID`, and the paused span it closes, in one statement on
    /// `connection`; returns the call's tenant and the stored event, or nil when there is no such call.
    private func insertConsentEvent(
        callID: String, kind: ConsentEventKind, method: ConsentMethod, at: Date, frameIndex: Int64?, timelineMs: Int64?,
        closedPause: PausedSpan?, on connection: PostgresConnection
    ) async throws -> (tenantID: String, event: ConsentEventRecord)? {
        let (startMs, endMs) = (closedPause?.startMs, closedPause?.endMs)
        var stored: (String, Int64)?
        for try await row in try await connection.query(
            """
            WITH c AS (SELECT id, tenant_id FROM calls WHERE id = \(callID)),
            e AS (
                INSERT INTO consent_events (call_id, kind, method, at, frame_index, timeline_ms)
                SELECT c.id, \(kind.rawValue), \(method.rawValue), \(at), \(frameIndex), \(timelineMs) FROM c
                RETURNING id),
            s AS (
                INSERT INTO paused_spans (call_id, start_ms, end_ms)
                SELECT c.id, \(startMs), \(endMs) FROM c WHERE \(closedPause != nil)
                RETURNING id)
            SELECT c.tenant_id, e.id FROM c, e
            """, logger: logger
        ).decode((String, Int64).self) {
            stored = row
        }
        guard let stored else { return nil }
        return (
            stored.0,
            ConsentEventRecord(
                id: stored.1, callId: callID, kind: kind, method: method, at: at, frameIndex: frameIndex, timelineMs: timelineMs)
        )
    }

    /// Folds call `callID`'s consent events with its tenant's mode into `calls.consent_state` on `connection`
    /// (in the transaction that stored them), as SQLite's `Catalog.refoldConsentState` does.
    private func refoldConsentState(callID: String, on connection: PostgresConnection) async throws {
        var found: (String, [String])?
        for try await row in try await connection.query(
            """
            SELECT t.consent_mode, ARRAY(SELECT e.kind FROM consent_events e WHERE e.call_id = c.id ORDER BY e.id)
            FROM calls c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = \(callID)
            """, logger: logger
        ).decode((String, [String]).self) {
            found = row
        }
        guard let (mode, kinds) = found else { return }
        let state = CallConsentState.summarize(
            mode: ConsentMode(rawValue: mode) ?? .optIn, kinds: kinds.compactMap(ConsentEventKind.init(rawValue:)))
        try await connection.query(
            "UPDATE calls SET consent_state = \(state.rawValue) WHERE id = \(callID)", logger: logger)
    }

    /// The `consent.event` audit entry of a stored event, with the details SQLite writes.
    private static func consentAuditEvent(_ event: ConsentEventRecord, tenantID: String, actor: String) -> AuditEvent {
        var details = ["kind": event.kind.rawValue, "method": event.method.rawValue]
        if let frameIndex = event.frameIndex { details["frameIndex"] = String(frameIndex) }
        if let timelineMs = event.timelineMs { details["timelineMs"] = String(timelineMs) }
        return AuditEvent(
            actor: actor, action: .consentEvent, tenantID: tenantID, subjectID: event.callId, details: details,
            at: event.at)
    }
}
