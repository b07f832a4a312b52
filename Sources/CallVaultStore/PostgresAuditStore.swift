public import CallVaultModel
import Foundation
public import Logging
internal import PostgresNIO

/// The audit log in a shared PostgreSQL database, for nodes on many machines.
///
/// One global chain, as on SQLite, with the same canonical encoding (``AuditLog``'s canonical fields)
/// and hash, so an entry verifies alike on both backends. Each append is one statement, so one round
/// trip and one short transaction: it locks the chain's head row (`audit_head`, `FOR UPDATE`), inserts
/// the entry linked to the head's hash and hashed as SHA-256(head hash ‖ the encoding this binary made),
/// and moves the head. Appends from any number of tasks and nodes queue on that one row lock and never
/// fork the chain; the returned hash is checked against this binary's own SHA-256. `audit_log` refuses
/// UPDATE, DELETE and TRUNCATE through triggers; ``verify()`` still finds a change made around them. The
/// tables come with schema version 2 of the PostgreSQL store (``PostgresSchema``). See
/// `docs/store-postgres.md`.
public final class PostgresAuditStore: AuditStore {
    public let settings: PostgresStoreSettings
    private let pool: PostgresPool
    private var client: PostgresClient { pool.client }
    private var logger: Logger { pool.logger }

    /// Connects (a pool of up to `settings.maximumConnections`), waits for a first connection, and
    /// brings the schema to this binary's version. Call ``close()`` when done.
    public static func open(_ settings: PostgresStoreSettings, logger: Logger = Logger(label: "callvault.postgres"))
        async throws(AuditStoreError) -> PostgresAuditStore
    {
        do {
            return PostgresAuditStore(
                pool: try await PostgresPool.open(settings, logger: logger, doing: "open the audit log")
            )
        } catch {
            throw AuditStoreError(error)
        }
    }

    /// A store on a pool another store opened (``PostgresCatalog`` shares one pool per node).
    init(pool: PostgresPool) {
        self.settings = pool.settings
        self.pool = pool
    }

    /// Closes the pool's connections. The store cannot be used after.
    public func close() async {
        await pool.close()
    }

    // MARK: - AuditStore

    public func append(_ event: AuditEvent) async throws(AuditStoreError) -> AuditEntry {
        let settings = self.settings
        let logger = self.logger
        return try await perform("append to the audit log") {
            // A transaction: the webhook event the entry reports (if any) commits with it.
            try await self.client.withTransaction(logger: logger) { connection in
                try await Self.append(event, on: connection, settings: settings, logger: logger)
            }
        }
    }

    /// Appends `event` on `connection`, inside whatever transaction it has open: the catalog's operations
    /// call this as their transaction's last statement, so the entry commits with the change it records
    /// and the head row stays locked only from here to the commit.
    ///
    /// One statement: lock the head (appends from every node queue here; after the one before commits,
    /// FOR UPDATE reads the head it left), link the entry to it, hash it as SHA-256(head hash ‖ the
    /// canonical encoding this binary made), move the head. The hash the database computed is checked
    /// against this binary's own.
    static func append(
        _ event: AuditEvent, on connection: PostgresConnection, settings: PostgresStoreSettings, logger: Logger
    ) async throws -> AuditEntry {
        let fields: AuditLog.CanonicalFields
        do {
            fields = try AuditLog.CanonicalFields(
                actor: event.actor,
                action: event.action,
                tenantID: event.tenantID,
                subjectID: event.subjectID,
                details: event.details,
                at: event.at
            )
        } catch {
            throw AuditStoreError(.invalidArgument, "cannot encode an audit entry's details: \(type(of: error))")
        }
        let encoded = Data(fields.encoded())
        var stored: (seq: Int64, prevHash: Data, hash: Data)?
        for try await row in try await connection.query(
            """
            WITH h AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
            e AS (
                INSERT INTO audit_log (seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash)
                SELECT h.seq + 1, \(fields.at), \(fields.actor), \(fields.action), \(fields.tenantID),
                    \(fields.subjectID), \(fields.details), h.hash, sha256(h.hash || \(encoded)::bytea)
                FROM h
                RETURNING seq, prev_hash, hash)
            UPDATE audit_head SET seq = e.seq, hash = e.hash FROM e WHERE audit_head.id = 1
            RETURNING e.seq, e.prev_hash, e.hash
            """,
            logger: logger
        ).decode((Int64, Data, Data).self) {
            stored = row
        }
        guard let stored else {
            throw AuditStoreError(
                .databaseFailure,
                "the audit chain's head row is missing from \(settings.description) (audit_head was changed outside "
                    + "callvault): restore the database from a backup"
            )
        }
        let prevHash = Array(stored.prevHash)
        let hash = AuditLog.entryHash(prevHash: prevHash, fields: fields)
        guard CatalogHash.constantTimeEquals(hash, Array(stored.hash)) else {
            throw AuditStoreError(
                .databaseFailure,
                "audit entry \(stored.seq) on \(settings.description) was stored with a hash this binary does not "
                    + "compute: run `callvault audit verify`"
            )
        }
        if let draft = WebhookEventDraft(
            auditAction: event.action, tenantID: event.tenantID, subjectID: event.subjectID, details: event.details)
        {
            try await PostgresCatalog.enqueueWebhook(draft, on: connection, at: event.at, logger: logger)
        }
        return fields.entry(seq: stored.seq, prevHash: prevHash, hash: hash, fallbackTime: event.at)
    }

    public func entries(tenantID: String?, afterSeq: Int64, limit: Int?) async throws(AuditStoreError) -> [AuditEntry] {
        try AuditStoreArguments.check(limit: limit)
        return try await perform("read the audit log", within: limit == nil ? settings.longReadTimeout : nil) {
            try await self.decodedEntries(
                """
                SELECT seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash FROM audit_log
                WHERE seq > \(afterSeq) AND (\(tenantID)::text IS NULL OR tenant_id = \(tenantID))
                ORDER BY seq LIMIT \(limit.map(Int64.init))
                """)
        }
    }

    public func entries(matching query: AuditEntryQuery) async throws(AuditStoreError) -> [AuditEntry] {
        try AuditStoreArguments.check(limit: query.limit)
        var conditions: [String] = []
        var values: [any PostgresEncodable & Sendable] = []
        if let tenantIDs = query.tenantIDs {
            if tenantIDs.isEmpty { return [] }
            values.append(tenantIDs)
            conditions.append("tenant_id = ANY($\(values.count))")
        }
        if let action = query.action {
            values.append(action.rawValue)
            conditions.append("action = $\(values.count)")
        }
        if let actor = query.actor {
            values.append(actor)
            conditions.append("actor = $\(values.count)")
        }
        if let subjectID = query.subjectID {
            values.append(subjectID)
            conditions.append("subject_id = $\(values.count)")
        }
        // `at` is the hashed text (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), compared byte by byte as it orders as time.
        if let from = query.from {
            values.append(AuditLog.canonicalTime(from))
            conditions.append(#"at COLLATE "C" >= $\#(values.count)"#)
        }
        if let before = query.before {
            values.append(AuditLog.canonicalTime(before))
            conditions.append(#"at COLLATE "C" < $\#(values.count)"#)
        }
        let order: String
        switch query.direction {
        case .newestFirst(let beforeSeq):
            if let beforeSeq {
                values.append(beforeSeq)
                conditions.append("seq < $\(values.count)")
            }
            order = "seq DESC"
        case .oldestFirst(let afterSeq):
            values.append(afterSeq)
            conditions.append("seq > $\(values.count)")
            order = "seq"
        }
        values.append(Int64(query.limit))
        let sql = """
            SELECT seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash FROM audit_log
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY \(order) LIMIT $\(values.count)
            """
        let binds = values
        return try await perform("read the audit log") {
            var bindings = PostgresBindings(capacity: binds.count)
            for value in binds { try bindings.append(value) }
            return try await self.decodedEntries(PostgresQuery(unsafeSQL: sql, binds: bindings))
        }
    }

    /// The entries a query's rows hold, in its order.
    private func decodedEntries(_ query: PostgresQuery) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        let rows = try await client.query(query, logger: logger)
        for try await (seq, at, actor, action, tenant, subject, details, prevHash, hash) in rows.decode(
            (Int64, String, String, String, String?, String?, String, Data, Data).self
        ) {
            guard let date = AuditLog.storedTime(at) else {
                throw AuditStoreError(
                    .databaseFailure,
                    "audit entry \(seq) on \(settings.description) has a malformed time: run `callvault audit verify`")
            }
            entries.append(
                AuditEntry(
                    seq: seq, at: date, actor: actor, action: AuditAction(rawValue: action), tenantId: tenant,
                    subjectId: subject, details: details, prevHash: prevHash, hash: hash))
        }
        return entries
    }

    public func verify() async throws(AuditStoreError) -> AuditVerification {
        try await perform("verify the audit log", within: settings.longReadTimeout) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                // One snapshot for the walk and the lookup, as SQLite's read transaction gives.
                try await connection.query(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                    logger: self.logger
                )
                var walk = AuditChainWalk()
                var misLinked: (seq: Int64, storedPrev: [UInt8])?
                // Every column as stored (text, not decoded values): what is checked is exactly what is kept.
                let rows = try await connection.query(
                    """
                    SELECT seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash
                    FROM audit_log ORDER BY seq
                    """,
                    logger: self.logger
                )
                walking: for try await (seq, at, actor, action, tenant, subject, details, prevHash, hash)
                    in rows.decode(
                        (Int64, String?, String?, String?, String?, String?, String?, Data?, Data?).self
                    )
                {
                    var fields: AuditLog.CanonicalFields?
                    if let at, let actor, let action, let details {
                        fields = AuditLog.CanonicalFields(
                            at: at,
                            actor: actor,
                            action: action,
                            tenantID: tenant,
                            subjectID: subject,
                            details: details
                        )
                    }
                    switch walk.check(
                        seq: seq,
                        fields: fields,
                        storedPrev: prevHash.map(Array.init),
                        storedHash: hash.map(Array.init)
                    )
                    {
                    case .linked: continue
                    case .broken(let verdict): return verdict
                    case .misLinked(let storedPrev):
                        misLinked = (seq, storedPrev)
                        break walking
                    }
                }
                guard let misLinked else {
                    var head: (Int64, Data)?
                    for try await row in try await connection.query(
                        "SELECT seq, hash FROM audit_head WHERE id = 1", logger: self.logger
                    ).decode((Int64, Data).self) {
                        head = row
                    }
                    guard let head else {
                        throw AuditStoreError(
                            .databaseFailure,
                            "the audit chain's head row is missing from \(self.settings.description) (audit_head was "
                                + "changed outside CallVault)")
                    }
                    return walk.ending(atHead: head.0, hash: Array(head.1))
                }
                var elsewhere = false
                for try await found in try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash = \(Data(misLinked.storedPrev)))",
                    logger: self.logger
                ).decode(Bool.self) {
                    elsewhere = found
                }
                return walk.misLinked(seq: misLinked.seq, linksToAnotherEntry: elsewhere)
            }
        }
    }

    // MARK: - Errors

    /// Runs database work, turning any error into an ``AuditStoreError`` that names the database.
    /// Runs database work within the operation deadline (``PostgresStoreSettings/operationTimeout``, or
    /// `within`), turning any error into an ``AuditStoreError`` that names the database.
    private func perform<T: Sendable>(
        _ what: String, within limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws(AuditStoreError) -> T {
        do { return try await pool.run(what, within: limit, body) } catch { throw auditError(error, doing: what) }
    }

    private func auditError(_ error: any Error, doing what: String) -> AuditStoreError {
        if let error = error as? AuditStoreError { return error }
        if let error = error as? PostgresTransactionError,
            let inner = error.closureError as? AuditStoreError
        {
            return inner
        }
        return AuditStoreError(PostgresErrors.queueError(error, doing: what, settings: settings))
    }
}
