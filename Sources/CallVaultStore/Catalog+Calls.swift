public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    /// Registers a new call of a tenant.
    ///
    /// - Parameters:
    ///   - externalID: the provider's call id (Twilio `callSid`, AudioSocket UUID); unique per tenant.
    ///   - callerNumber: the caller's phone number, if known. Only its keyed hash (HMAC-SHA-256 under
    ///     the tenant's phone-hash key) is stored; the number itself is never written.
    public func registerCall(
        tenantID: String,
        externalID: String,
        callerNumber: String? = nil,
        startedAt: Date = Date(),
        actor: String = "ingest",
        callerKeys: CallerKeys? = nil
    ) throws(CatalogError) -> CallRecord {
        guard !externalID.isEmpty, externalID.utf8.count <= 200 else {
            throw CatalogError(.invalidArgument, "a call id must have 1 to 200 bytes")
        }
        let startedAt = startedAt.catalogPrecision
        _ = try tenantRecord(id: tenantID)
        let callID = Self.newID()
        let (callerHash, callerEncrypted) = try PhoneNumberHash.callerColumns(
            callerNumber, keys: callerKeys, tenantID: tenantID, callID: callID)
        let call = CallRecord(
            id: callID,
            tenantId: tenantID,
            externalId: externalID,
            startedAt: startedAt,
            callerHash: callerHash,
            callerEncrypted: callerEncrypted
        )
        try write { db in
            let existing =
                try CallRow
                .filter(CallRow.Columns.tenantId == tenantID && CallRow.Columns.externalId == externalID)
                .fetchCount(db)
            guard existing == 0 else {
                throw CatalogError(.duplicate, "call \(externalID) is already registered for this tenant")
            }
            try CallRow(call).insert(db)
            try Self.refoldConsentState(db, callID: call.id)
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .callStarted,
                tenantID: tenantID,
                subjectID: call.id,
                details: ["externalId": externalID],
                at: startedAt
            )
        }
        return call
    }

    /// The call with this id; with `tenantID`, only if it belongs to that tenant.
    public func call(id: String, tenantID: String? = nil) throws(CatalogError) -> CallRecord {
        let call = try read { db in try CallRow.fetchOne(db, key: id)?.record }
        guard let call, tenantID == nil || call.tenantId == tenantID else {
            throw CatalogError(.notFound, "no call with id \(id)")
        }
        return call
    }

    /// A tenant's call by the provider's call id, or nil.
    public func call(tenantID: String, externalID: String) throws(CatalogError) -> CallRecord? {
        try read { db in
            try CallRow
                .filter(CallRow.Columns.tenantId == tenantID && CallRow.Columns.externalId == externalID)
                .fetchOne(db)?.record
        }
    }

    /// Marks a call ended, and stores the paused span its end closed, in one transaction: a call is
    /// never shown ended with a pause still open, nor a pause closed on a call still running.
    public func endCall(id: String, closingPause: PausedSpan? = nil, at: Date = Date())
        throws(CatalogError)
    {
        try CatalogInputChecks.check(closingPause)
        try write { db in
            try db.execute(sql: "UPDATE calls SET ended_at = ? WHERE id = ?", arguments: [at, id])
            guard db.changesCount == 1 else {
                throw CatalogError(.notFound, "no call with id \(id)")
            }
            if let tenantID = try String.fetchOne(db, sql: "SELECT tenant_id FROM calls WHERE id = ?", arguments: [id]) {
                try Self.enqueueWebhook(.callEnded(callID: id, tenantID: tenantID), in: db, at: at)
            }
            if let closingPause {
                var span = PausedSpanRow(
                    PausedSpanRecord(callId: id, startMs: closingPause.startMs, endMs: closingPause.endMs))
                try span.insert(db)
            }
        }
    }

    /// Calls with this provider call id in any tenant (AudioSocket names a call only by its UUID;
    /// the tenant is whoever registered it). Matched without regard to letter case.
    public func calls(externalID: String) throws(CatalogError) -> [CallRecord] {
        try read { db in
            try CallRow.fetchAll(
                db, sql: "SELECT * FROM calls WHERE external_id = ? COLLATE NOCASE ORDER BY started_at",
                arguments: [externalID]
            ).map(\.record)
        }
    }

    /// A tenant's calls from one caller, found by the keyed hash of the number (for data-subject
    /// export and erasure). The number is hashed in memory and never stored or logged.
    public func calls(tenantID: String, callerNumber: String, callerKeys: CallerKeys) throws(CatalogError) -> [CallRecord] {
        _ = try tenantRecord(id: tenantID)
        let hash = try PhoneNumberHash.hash(callerNumber, key: callerKeys.hashKey)
        return try read { db in
            try CallRow
                .filter(CallRow.Columns.tenantId == tenantID && CallRow.Columns.callerHash == Data(hash))
                .order(CallRow.Columns.startedAt)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Records a consent event and its audit entry in one transaction.
    @discardableResult
    public func recordConsentEvent(
        callID: String,
        kind: ConsentEventKind,
        method: ConsentMethod,
        at: Date = Date(),
        frameIndex: Int64? = nil,
        timelineMs: Int64? = nil,
        actor: String = "recorder"
    ) throws(CatalogError) -> ConsentEventRecord {
        try CatalogInputChecks.checkPosition(frameIndex: frameIndex, timelineMs: timelineMs)
        let at = at.catalogPrecision
        return try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            return try Self.insertConsentEvent(
                db, call: call, kind: kind, method: method, at: at, frameIndex: frameIndex, timelineMs: timelineMs,
                actor: actor)
        }
    }

    /// Stores the evidence of consent decisions — each event, its audit entry and the paused span it
    /// closes — in one transaction, in order: all of it is durable, or none of it is and the caller
    /// must not let the decisions take effect (the recorder's "evidence first" rule).
    @discardableResult
    public func recordConsentEvidence(
        callID: String, _ evidence: [ConsentEvidence], actor: String = "recorder", at: Date = Date()
    ) throws(CatalogError) -> [ConsentEventRecord] {
        try CatalogInputChecks.check(evidence)
        let at = at.catalogPrecision
        return try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            var stored: [ConsentEventRecord] = []
            for item in evidence {
                stored.append(
                    try Self.insertConsentEvent(
                        db, call: call, kind: item.kind, method: item.method, at: at, frameIndex: nil,
                        timelineMs: item.timelineMs, actor: actor))
                if let pause = item.closedPause {
                    var span = PausedSpanRow(
                        PausedSpanRecord(callId: callID, startMs: pause.startMs, endMs: pause.endMs))
                    try span.insert(db)
                }
            }
            return stored
        }
    }

    /// Inserts one consent event and its audit entry inside the caller's transaction.
    private static func insertConsentEvent(
        _ db: Database, call: CallRecord, kind: ConsentEventKind, method: ConsentMethod, at: Date, frameIndex: Int64?,
        timelineMs: Int64?, actor: String
    ) throws -> ConsentEventRecord {
        let event = try ConsentEventRow(
            ConsentEventRecord(
                callId: call.id, kind: kind, method: method, at: at, frameIndex: frameIndex, timelineMs: timelineMs)
        ).inserted(db).record
        try refoldConsentState(db, callID: call.id)
        var details = ["kind": kind.rawValue, "method": method.rawValue]
        if let frameIndex { details["frameIndex"] = String(frameIndex) }
        if let timelineMs { details["timelineMs"] = String(timelineMs) }
        try AuditLog.append(
            in: db, actor: actor, action: .consentEvent, tenantID: call.tenantId, subjectID: call.id, details: details,
            at: at)
        return event
    }

    /// Appends the `call.ended_by_limit` audit entry of a call the server finished because a limit ran
    /// out, under the call's tenant.
    ///
    /// - Parameters:
    ///   - limit: which limit (`idleTimeout`, `callDuration`).
    ///   - details: the limit's value and the like; no phone number, token or audio.
    @discardableResult
    public func recordCallEndedByLimit(
        callID: String, limit: String, details: [String: String] = [:], actor: String = "ingest", at: Date = Date()
    ) throws(CatalogError) -> AuditEntry {
        try write { db in
            guard let call = try CallRow.fetchOne(db, key: callID)?.record else {
                throw CatalogError(.notFound, "no call with id \(callID)")
            }
            var entryDetails = details
            entryDetails["limit"] = limit
            return try AuditLog.append(
                in: db,
                actor: actor,
                action: .callEndedByLimit,
                tenantID: call.tenantId,
                subjectID: callID,
                details: entryDetails,
                at: at
            )
        }
    }

    /// A call's consent events, oldest first.
    public func consentEvents(callID: String) throws(CatalogError) -> [ConsentEventRecord] {
        try read { db in
            try ConsentEventRow.filter(ConsentEventRow.Columns.callId == callID)
                .order(ConsentEventRow.Columns.id).fetchAll(db).map(\.record)
        }
    }
}
