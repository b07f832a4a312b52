import CallVaultArchive
import CallVaultAudio
public import CallVaultModel
public import CallVaultRecorder
public import CallVaultStore
import Foundation
public import Logging
import NIOCore
public import NIOPosix

/// What every media session shares: the stores, the flush group, live calls, metrics and settings.
public struct IngestContext: Sendable {
    /// The catalog, SQLite or PostgreSQL: the sessions reach it only off their event loops.
    public let catalog: any CatalogStore
    /// Where the calls' catalog operations run: a blocking thread pool for the SQLite ``Catalog`` (its
    /// transactions hold a thread), nil (Swift's cooperative pool) for a catalog that suspends.
    let catalogExecutor: (any TaskExecutor)?
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    public let flushGroup: FlushGroup
    public let liveCalls: LiveCallRegistry
    public let metrics: IngestMetrics
    public let logger: Logger
    /// Frames per sealed segment (50 = 1 s): bounds what a crash can lose.
    public let framesPerSegment: Int
    /// Stream counts under the server's limits.
    public let admission: StreamAdmission
    /// Keeps tenants' day keys ready in memory, off the event loops; nil only without a key provider
    /// (with one and without a preparer, every recording fails `dayKeyNotReady`: nothing is recorded).
    public let dayKeys: DayKeyPreparer?
    public var limits: IngestLimits { admission.limits }
    /// This server's node id (its lease's name, ``NodeLease``): every recording it opens is owned by it,
    /// so another node recovers those only once the lease has run out. Nil in tests without one.
    public let node: String?
    /// What the catalog records for each new recording's file: `spooled` when the directory keeps its files
    /// in an object store (they are uploaded once closed), nil otherwise.
    public let fileStorage: SealedStorage?
    /// The data disk's state: new calls are refused while it is low or failing; nil in tests without one.
    public let storage: StorageMonitor?

    /// - Parameters:
    ///   - catalog: any catalog; `serve` passes the data directory's SQLite ``Catalog`` or a PostgreSQL one.
    ///   - threadPool: runs the SQLite catalog's transactions (ignored for other catalogs).
    public init(
        catalog: any CatalogStore, threadPool: NIOThreadPool = .singleton, keyStore: KeyStore, dataDirectory: DataDirectory, flushGroup: FlushGroup,
        liveCalls: LiveCallRegistry, metrics: IngestMetrics = IngestMetrics(), logger: Logger, framesPerSegment: Int = 50,
        limits: IngestLimits = IngestLimits(), dayKeys: DayKeyPreparer? = nil, node: String? = nil,
        fileStorage: SealedStorage? = nil, storage: StorageMonitor? = nil
    ) {
        self.storage = storage
        self.node = node
        self.fileStorage = fileStorage
        self.admission = StreamAdmission(limits: limits)
        self.dayKeys = dayKeys
        self.catalog = catalog
        // A key store on PostgreSQL blocks its thread for each round trip (opening a track makes a data
        // key): then the call queues run on the blocking pool too, never on the cooperative pool.
        self.catalogExecutor =
            catalog is Catalog || keyStore.isOnNetworkDatabase ? ThreadPoolTaskExecutor(pool: threadPool) : nil
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.flushGroup = flushGroup
        self.liveCalls = liveCalls
        self.metrics = metrics
        self.logger = logger
        self.framesPerSegment = framesPerSegment
    }

    /// Admits a new stream of `tenant`, or returns the close that refuses it (logged and counted): the data
    /// disk low or failing (``StorageMonitor``, close 1013 with the reason: nothing of the call is kept),
    /// or a stream limit.
    func admit(_ tenant: Tenant) -> MediaClose? {
        if let refusal = storage?.refusal {
            metrics.callRefused("storage")
            logger.notice("stream refused", metadata: ["tenant": "\(tenant.id)", "reason": "\(refusal)"])
            return MediaClose(code: 1013, reason: "no new recording can start: \(refusal); retry later")
        }
        guard let (close, kind) = admission.admit(tenantID: tenant.id) else { return nil }
        metrics.protocolError(kind)
        logger.notice("stream refused", metadata: ["tenant": "\(tenant.id)", "reason": "\(close.reason)"])
        return close
    }

    /// A stream's clocks: the close it gets if it was silent or long past a limit (logged, counted, and
    /// audited as `call.ended_by_limit` through the call's queue when the stream had started a call).
    func expired(startedAt: NIODeadline, lastMediaAt: NIODeadline, callID: String?, queue: CallCatalogQueue) -> MediaClose? {
        guard let clock = limits.expired(startedAt: startedAt, lastMediaAt: lastMediaAt, now: .now()) else {
            return nil
        }
        let close = limits.close(clock)
        metrics.protocolError("limit.\(clock.rawValue)")
        logger.notice("stream closed by a limit", metadata: ["call": "\(callID ?? "?")", "reason": "\(close.reason)"])
        if let callID {
            let limitMs = IngestLimits.timeAmount(limits.duration(of: clock)).nanoseconds / 1_000_000
            let catalog = self.catalog
            let logger = self.logger
            let limit = clock.rawValue
            queue.enqueue {
                do throws(CatalogError) {
                    _ = try await catalog.recordCallEndedByLimit(
                        callID: callID, limit: limit, details: ["limitMs": "\(limitMs)"], actor: "ingest", at: Date())
                } catch {
                    logger.error(
                        "call ended by a limit not audited", metadata: ["call": "\(callID)", "error": "\(error.message)"])
                }
            }
        }
        return close
    }

    /// The tenant a token authenticates, or nil for a missing or unknown token. A catalog that cannot
    /// answer is a server error with its reason, never reported as an unknown token.
    func tenant(token: String?) async throws(MediaClose) -> Tenant? {
        guard let token else { return nil }
        do {
            return try await catalog.tenant(authenticatedBy: token)
        } catch {
            logger.error("catalog unavailable during authentication", metadata: ["error": "\(error.message)"])
            metrics.callRefused("catalogUnavailable")
            throw .serverError("the catalog is unavailable (\(error.message)); retry")
        }
    }

    /// Refuses a stream of `tenant` with 1008 and the reason (counted, logged) when the tenant pins client
    /// certificates and the connection did not present one of them; checked before the call is registered,
    /// so nothing of a refused stream is kept.
    func checkClientCertificate(_ tenant: Tenant, over security: ConnectionSecurity) throws(MediaClose) {
        guard let refusal = security.refusal(for: tenant) else { return }
        metrics.protocolError("tls.clientCertRefused")
        logger.notice(
            "stream refused: client certificate", metadata: ["tenant": "\(tenant.id)", "reason": "\(refusal)"])
        throw .policy(refusal)
    }

    /// The catalog call for a provider's call id in this tenant, registered now if it is new.
    func call(tenant: Tenant, externalID: String, from: String?) async throws(MediaClose) -> CallRecord {
        do {
            if let existing = try await catalog.call(tenantID: tenant.id, externalID: externalID) { return existing }
            let keys = from == nil ? nil : try callerKeys(tenant)
            return try await catalog.registerCall(
                tenantID: tenant.id, externalID: externalID, callerNumber: from, startedAt: Date(), actor: "ingest",
                callerKeys: keys)
        } catch where error.code == .invalidArgument {
            throw .invalid(error.message)
        } catch {
            logger.error("catalog unavailable at call start", metadata: ["error": "\(error.message)"])
            metrics.callRefused("catalogUnavailable")
            throw .serverError("the catalog is unavailable")
        }
    }

    /// The tenant's caller keys (created with its tenant key if the tenant has none yet).
    func callerKeys(_ tenant: Tenant) throws(CatalogError) -> CallerKeys {
        do {
            try keyStore.ensureTenant(tenant.id)
            return try keyStore.callerKeys(tenantID: tenant.id)
        } catch {
            throw CatalogError(.cryptoFailure, "no caller keys for tenant \(tenant.id): \(error.message)")
        }
    }

    /// What a call's recorder needs before it starts, checked off the event loop: the tenant's key
    /// (a catalog restored without its key store, or a tenant added by an older build, would otherwise
    /// fail at the first admitted frame), with a key provider its day key ready in memory
    /// (``DayKeyPreparer``: the recorder opens data keys on the event loop and never calls the provider
    /// there), and the call's stored consent events. A key store or catalog that cannot answer refuses
    /// the stream with the reason: recording without a key, or without honouring a stored `deny`, is
    /// not an option. A day key not ready (a new tenant, a provider that fails) refuses the stream with a
    /// reason naming the tenant and the provider, and asks the preparer to fetch it; other tenants go on.
    func prepareRecording(_ call: CallRecord, tenant: Tenant) async throws(MediaClose) -> [ConsentEventRecord] {
        do {
            try keyStore.ensureTenant(tenant.id)
        } catch {
            logger.error("tenant key unavailable at call start", metadata: ["tenant": "\(tenant.id)", "error": "\(error.message)"])
            throw .serverError("the key store is unavailable (\(error.message)); retry")
        }
        if let dayKeys, !dayKeys.isReady(tenant) {
            throw dayKeyNotReady(tenant, call: call.id)
        }
        do {
            return try await catalog.consentEvents(callID: call.id)
        } catch {
            logger.error("stored consent events unreadable at call start", metadata: ["call": "\(call.id)", "error": "\(error.message)"])
            metrics.callRefused("catalogUnavailable")
            throw .serverError("the call's stored consent events cannot be read (the catalog is unavailable); retry")
        }
    }

    /// A recorder for a call of this tenant, storing in `arrivedAs` when the tenant keeps the native codec,
    /// with the call's stored consent events replayed (read by ``prepareRecording(_:tenant:)``).
    func makeRecorder(_ call: CallRecord, tenant: Tenant, arrivedAs native: StorageCodec, replaying events: [ConsentEventRecord])
        -> CallRecorder
    {
        let codec = tenant.policy.codec == .native ? native : tenant.policy.codec
        let recorder = CallRecorder(
            callID: call.id,
            settings: .init(
                policy: ConsentPolicy(tenant.policy), storageCodec: codec, framesPerSegment: framesPerSegment,
                providerRoundTrip: .forbidden),
            store: catalog, keyStore: keyStore, dataDirectory: dataDirectory, flushGroup: flushGroup, logger: logger)
        recorder.replay(events)
        return recorder
    }
}

extension IngestContext {
    /// The close that refuses a call of `tenant` whose day key is not ready in memory: asks the preparer
    /// to fetch it (off the loops), counts and logs the refusal with the full reason (provider location
    /// and error), and names the tenant and the provider in the close reason.
    func dayKeyNotReady(_ tenant: Tenant, call callID: String) -> MediaClose {
        metrics.callRefused("dayKeyNotReady")
        guard let dayKeys else {
            logger.error(
                "call refused: day keys are wrapped by a key provider but no day-key preparer runs",
                metadata: ["tenant": "\(tenant.id)", "call": "\(callID)"])
            return .serverError("tenant \(tenant.id): its day key is not ready (no day-key preparer); retry")
        }
        // The reason as things stand now, before the request lets the preparer change them.
        let reason = dayKeys.refusal(tenant)
        let failure = dayKeys.failure(tenantID: tenant.id)?.message ?? "not fetched yet"
        let provider = keyStore.dayKeyProviderDescription(tenantID: tenant.id) ?? "none"
        dayKeys.request(tenantID: tenant.id)
        logger.error(
            "call refused: the tenant's day key is not ready in memory",
            metadata: [
                "tenant": "\(tenant.id)", "call": "\(callID)", "provider": "\(provider)", "error": "\(failure)",
            ])
        return .serverError(reason)
    }
}

extension IngestContext {
    /// The session factory `callvault serve` gives the server: Twilio and binary streams.
    public var mediaSessions: MediaSessionFactory {
        let context = self
        return { endpoint, tenant, security, eventLoop in
            switch endpoint {
            case .twilio: TwilioSession(context: context, tenant: tenant, security: security, eventLoop: eventLoop)
            case .binary: BinaryStreamSession(context: context, tenant: tenant, security: security, eventLoop: eventLoop)
            }
        }
    }
}
