public import CallVaultModel
import Foundation
public import Logging
internal import PostgresNIO

/// The catalog in a shared PostgreSQL database, for nodes on many machines: tenants, calls, consent
/// events, recordings, paused spans and transcripts (schema version 4, ``PostgresSchema``), with the job
/// queue (``PostgresJobQueue``) and the audit log (``PostgresAuditStore``) in the same database and on
/// the same connection pool.
///
/// Every operation is one short transaction. One that changes what a guarantee rests on appends its
/// audit entry inside that transaction, as its last statement (``PostgresAuditStore/append(_:on:settings:logger:)``),
/// so the change and its evidence commit together and the chain's head row is locked only from there to
/// the commit; completing a recording queues its job in the same transaction. Each operation has a
/// deadline (``PostgresStoreSettings/operationTimeout``): a database that is down fails it with
/// `unavailable` instead of hanging. See `docs/store-postgres.md`.
public final class PostgresCatalog: CatalogStore {
    public let settings: PostgresStoreSettings
    let pool: PostgresPool
    private let jobQueue: PostgresJobQueue
    private let auditStore: PostgresAuditStore
    var client: PostgresClient { pool.client }
    var logger: Logger { pool.logger }

    /// Connects (a pool of up to `settings.maximumConnections`, shared by the catalog, the queue and the
    /// audit log), waits for a first connection, and brings the schema to this binary's version (once,
    /// under an advisory lock, whichever node is first). Call ``close()`` when done.
    public static func open(_ settings: PostgresStoreSettings, logger: Logger = Logger(label: "callvault.postgres"))
        async throws(CatalogError) -> PostgresCatalog
    {
        do {
            return PostgresCatalog(pool: try await PostgresPool.open(settings, logger: logger, doing: "open the catalog"))
        } catch {
            throw CatalogError(error)
        }
    }

    private init(pool: PostgresPool) {
        self.settings = pool.settings
        self.pool = pool
        self.jobQueue = PostgresJobQueue(pool: pool)
        self.auditStore = PostgresAuditStore(pool: pool)
    }

    /// Closes the pool (and the queue's listening connection). Nothing opened from this catalog can be
    /// used after.
    public func close() async {
        await jobQueue.closeWakeups()
        await pool.close()
    }

    public var location: String { settings.description }
    public var queue: any JobQueue { jobQueue }
    public var audit: any AuditStore { auditStore }
    public var webhooks: any WebhookStore { PostgresWebhookStore(catalog: self) }
    /// The queue as its concrete type, for what only PostgreSQL has (archiving finished jobs).
    public var postgresQueue: PostgresJobQueue { jobQueue }

    // MARK: - Running statements

    /// Runs `body` within the operation deadline, turning any error into a ``CatalogError`` that says
    /// what failed and names the database (never a password or a bound value).
    func perform<T: Sendable>(
        _ what: String, within limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws(CatalogError) -> T {
        do { return try await pool.run(what, within: limit, body) } catch { throw catalogError(error, doing: what) }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws) within the
    /// operation deadline.
    func transaction<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(CatalogError) -> T {
        let logger = self.logger
        return try await perform(what) {
            try await self.client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Appends an audit entry on `connection`, inside its transaction: call it as the transaction's last
    /// statement.
    @discardableResult
    func appendAudit(_ event: AuditEvent, on connection: PostgresConnection) async throws -> AuditEntry {
        try await PostgresAuditStore.append(event, on: connection, settings: settings, logger: logger)
    }

    func catalogError(_ error: any Error, doing what: String) -> CatalogError {
        if let error = error as? CatalogError { return error }
        if let error = error as? PostgresTransactionError,
            let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
        {
            return catalogError(inner, doing: what)
        }
        if let error = error as? AuditStoreError {
            return CatalogError(error.code == .unavailable ? .unavailable : .databaseFailure, error.message)
        }
        if let error = error as? PSQLError, error.code == .server, let info = error.serverInfo {
            switch info[.sqlState] {
            case "23505":
                return CatalogError(.duplicate, "cannot \(what): it exists already (\(info[.constraintName] ?? "unique"))")
            case "23503":
                return CatalogError(
                    .notFound, "cannot \(what): it refers to something that does not exist (\(info[.constraintName] ?? "foreign key"))")
            case "23514":
                return CatalogError(
                    .invalidArgument, "cannot \(what): a value breaks the rule \(info[.constraintName] ?? "check")")
            default: break
            }
        }
        return CatalogError(PostgresErrors.queueError(error, doing: what, settings: settings))
    }

    // MARK: - Rows

    /// The columns ``tenant(from:)`` reads, in its order.
    static let tenantColumns =
        "id, name, consent_mode, require_disclosure, consent_digit, optout_digit, voice_days, transcript_days, codec, "
        + "transcript_language, transcript_model, created_at, updated_at, sip_settings, redact, transcription, client_certs"
    typealias TenantColumns = (
        String, String, String, Bool, String?, String?, Int, Int, String, String, String?, Date, Date, String?, String?,
        String?, String?
    )

    static func tenant(from row: TenantColumns) throws(CatalogError) -> Tenant {
        let (id, name, mode, disclosure, consentDigit, optOutDigit, voiceDays, transcriptDays, codec, language, model,
            createdAt, updatedAt, sip, redact, transcription, clientCerts) = row
        guard let consentMode = ConsentMode(rawValue: mode), let storageCodec = StorageCodec(rawValue: codec) else {
            throw CatalogError(.databaseFailure, "tenant \(id) has a consent mode or codec this binary does not know")
        }
        let policy = TenantPolicy(
            consentMode: consentMode,
            requireDisclosure: disclosure,
            consentDigit: consentDigit?.first,
            optOutDigit: optOutDigit?.first,
            voiceDays: voiceDays,
            transcriptDays: transcriptDays,
            codec: storageCodec,
            transcriptLanguage: language,
            transcriptModel: model,
            sip: TenantSIPSettings(columnText: sip),
            redact: TenantRedaction(columnText: redact),
            transcription: TenantTranscription(columnText: transcription),
            clientCertificates: TenantClientCertificates(columnText: clientCerts)
        )
        return Tenant(
            id: id, name: name, policy: policy, createdAt: createdAt.postgresPrecision,
            updatedAt: updatedAt.postgresPrecision)
    }

    /// The columns ``call(from:)`` reads, in its order.
    static let callColumns = "id, tenant_id, external_id, started_at, ended_at, caller_hash, caller_encrypted"
    typealias CallColumns = (String, String, String, Date, Date?, Data?, Data?)

    static func call(from row: CallColumns) -> CallRecord {
        CallRecord(
            id: row.0, tenantId: row.1, externalId: row.2, startedAt: row.3.postgresPrecision,
            endedAt: row.4?.postgresPrecision, callerHash: row.5, callerEncrypted: row.6)
    }
}

extension Date {
    /// This date as the PostgreSQL catalog keeps it: whole milliseconds, as on SQLite. Applied to every
    /// time written and read, so a record returned by an insert equals the same record fetched back
    /// (timestamptz keeps microseconds, and a `Double` does not survive the trip bit for bit).
    var postgresPrecision: Date {
        Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}

extension CatalogError {
    /// A store error from the shared pool, with its reason and what to do.
    init(_ error: JobQueueError) {
        self.init(error.code == .unavailable || error.code == .schemaTooNew ? .unavailable : .databaseFailure, error.message)
    }
}
