import CallVaultModel
internal import GRDB

extension Catalog {
    /// The consent outcomes `calls.consent_state` may hold (``CallConsentState``'s raw values), as SQL.
    static let consentStatesSQL = "('pending', 'disclosed', 'granted', 'denied', 'revoked', 'paused', 'not-required')"

    /// Folds a call's consent events with its tenant's consent mode into `calls.consent_state`, inside the
    /// caller's transaction: the column the call list filters by, kept with the events that decide it.
    ///
    /// A call has a handful of events, so the whole fold is rerun (a pause needs the state before it).
    static func refoldConsentState(_ db: Database, callID: String) throws {
        guard
            let mode = try String.fetchOne(
                db,
                sql: "SELECT t.consent_mode FROM calls c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = ?",
                arguments: [callID]
            )
        else { return }
        let kinds = try String.fetchAll(
            db,
            sql: "SELECT kind FROM consent_events WHERE call_id = ? ORDER BY id",
            arguments: [callID]
        ).compactMap(ConsentEventKind.init(rawValue:))
        let state = CallConsentState.summarize(mode: ConsentMode(rawValue: mode) ?? .optIn, kinds: kinds)
        try db.execute(sql: "UPDATE calls SET consent_state = ? WHERE id = ?", arguments: [state.rawValue, callID])
    }

    /// Sets every call's `consent_state` from its stored events and its tenant's mode (migration v19).
    static func backfillConsentStates(_ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE calls SET consent_state = 'not-required'
                    WHERE tenant_id IN (SELECT id FROM tenants WHERE consent_mode = 'not-required')
                """
        )
        for callID in try String.fetchAll(db, sql: "SELECT DISTINCT call_id FROM consent_events") {
            try refoldConsentState(db, callID: callID)
        }
    }
}
