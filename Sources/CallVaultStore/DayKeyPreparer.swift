import CallVaultKeyProviders
public import CallVaultModel
public import Foundation
public import Logging
import Synchronization

/// Keeps the voice day keys that new recordings will need unwrapped in memory, ahead of time and off
/// the ingest event loops, so that a call start makes no key-provider round trip.
///
/// For every tenant in the catalog it prepares the day key of the expiry day a recording started now
/// would get (today + the tenant's voice retention) and of the day after (so midnight does not stall
/// calls), and unwraps each again through the provider before its ``DayKeyCache`` entry ends. All of it
/// runs on a serial dispatch queue of its own — never an event loop, never Swift's cooperative pool
/// (a provider that hangs blocks only this queue, up to its request timeout).
///
/// The event loops ask ``isReady(_:now:)`` (memory and one short key-store read, no provider call) and,
/// when a tenant's day key is not ready, ``request(tenantID:)`` (non-blocking): the call is refused
/// with ``refusal(_:)`` as its reason and a retry a moment later succeeds once the provider answers. A
/// provider that fails for one tenant fails only that tenant; the others keep their cached day keys.
///
/// Without a key provider it does nothing that costs anything: `local` day keys need no round trip.
public final class DayKeyPreparer: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    /// Time between two passes over every tenant.
    public let interval: Duration
    /// A cached day key whose entry ends within this is unwrapped again (more than ``interval``).
    public let refreshMargin: Duration
    /// After a tenant failed, requests from call starts are not retried sooner than this (the periodic
    /// pass still retries): a provider that is down is not hammered by every refused call.
    public let retryGap: Duration
    let logger: Logger
    private let queue = DispatchQueue(label: "callvault.day-key-preparer")
    private let state = Mutex(State())

    private struct State {
        var running = false
        var generation = 0
        var pending: Set<String> = []
        var failures: [String: Failure] = [:]
        /// Attempts are numbered when they start; an outcome older than the one recorded is dropped
        /// (the control API's thread and the queue may prepare one tenant at once).
        var attempts = 0
        var recordedAttempt: [String: Int] = [:]
        var passes = 0
    }

    private struct Failure {
        let error: KeyStoreError
        let at: ContinuousClock.Instant
    }

    /// - Parameters:
    ///   - interval: time between passes; by default a quarter of the key store's day-key cache time to
    ///     live, at most 30 s.
    ///   - refreshMargin: by default half the time to live.
    ///   - retryGap: the least time between two attempts for a failing tenant asked for by call starts.
    public init(
        catalog: any CatalogStore, keyStore: KeyStore, logger: Logger, interval: Duration? = nil,
        refreshMargin: Duration? = nil, retryGap: Duration = .seconds(1)
    ) {
        let ttl = keyStore.dayKeyCacheTimeToLive
        self.catalog = catalog
        self.keyStore = keyStore
        self.logger = logger
        self.interval = interval ?? min(.seconds(30), ttl / 4)
        self.refreshMargin = refreshMargin ?? ttl / 2
        self.retryGap = retryGap
    }

    /// The expiry day of a voice recording started at `now` by a tenant keeping voice `voiceDays` days:
    /// the UTC day of `now` + `voiceDays` × 24 h (at most 90 days), as the catalog fixes it.
    public static func voiceExpiryDay(voiceDays: Int, now: Date = Date()) -> CalendarDay {
        let days = Int64(min(max(voiceDays, 1), TenantPolicy.maximumVoiceDays))
        return CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970.rounded(.down)) + days * 86_400)
    }

    /// The voice day keys prepared for a tenant at `now`: its expiry day and the next.
    public static func voiceExpiryDays(voiceDays: Int, now: Date = Date()) -> [CalendarDay] {
        let first = voiceExpiryDay(voiceDays: voiceDays, now: now)
        return [first, first.adding(days: 1)]
    }

    // MARK: On an event loop (no provider call)

    /// Whether a call of `tenant` starting now can open its recordings without a provider round trip.
    /// A key store that cannot answer counts as not ready.
    public func isReady(_ tenant: Tenant, now: Date = Date()) -> Bool {
        let day = Self.voiceExpiryDay(voiceDays: tenant.policy.voiceDays, now: now)
        return (try? keyStore.dayKeyReady(tenantID: tenant.id, kind: .voice, expiresOn: day)) ?? false
    }

    /// Asks for the tenant's day keys to be prepared soon, off the event loops. Returns at once; many
    /// requests for one tenant before the queue gets to it make one attempt, and a tenant that failed
    /// less than ``retryGap`` ago waits for the next pass.
    public func request(tenantID: String) {
        let now = ContinuousClock.now
        let schedule = state.withLock { state -> Bool in
            if let failure = state.failures[tenantID], now - failure.at < retryGap { return false }
            return state.pending.insert(tenantID).inserted
        }
        guard schedule else { return }
        queue.async { [self] in drainPending() }
    }

    /// The last failure to prepare the tenant's day keys, or nil when the last attempt succeeded.
    public func failure(tenantID: String) -> KeyStoreError? {
        state.withLock { $0.failures[tenantID]?.error }
    }

    /// Why a call of `tenant` is refused while its day key is not ready, for the stream's close frame
    /// (at most 123 bytes) and the control API: names the tenant and the provider's kind, and whether the
    /// provider failed or the key is still being fetched (`its transit key provider`, `its pkcs11 …`, `its
    /// own …` for a tenant's own provider not opened yet). The full reason (with the provider's location
    /// and error) is in ``failure(tenantID:)`` and the log.
    public func refusal(_ tenant: Tenant) -> String {
        let provider = keyStore.dayKeyProviderKind(tenantID: tenant.id).map { "\($0) " } ?? ""
        if failure(tenantID: tenant.id) != nil {
            return "tenant \(tenant.id): its \(provider)key provider failed; nothing recorded, retry later"
        }
        return "tenant \(tenant.id): its day key is being fetched from its \(provider)key provider; retry"
    }

    // MARK: Off the event loops (blocking)

    /// Prepares the tenant's day keys now unless they are ready, on the calling thread (never an
    /// event loop): the control API's path, which may wait. A tenant that failed less than
    /// ``retryGap`` ago fails again at once with that failure.
    public func ensureReady(_ tenant: Tenant, now: Date = Date()) throws(KeyStoreError) {
        if isReady(tenant, now: now) { return }
        let recent = state.withLock { state -> KeyStoreError? in
            guard let failure = state.failures[tenant.id], ContinuousClock.now - failure.at < retryGap else { return nil }
            return failure.error
        }
        if let recent { throw recent }
        try prepare(tenant, now: now)
    }

    /// Prepares (creates, unwraps, refreshes) the tenant's voice day keys for `now` and the day after,
    /// blocking on the provider. Records the outcome for ``failure(tenantID:)`` and logs a change.
    public func prepare(_ tenant: Tenant, now: Date = Date()) throws(KeyStoreError) {
        let attempt = state.withLock { state -> Int in
            state.attempts += 1
            return state.attempts
        }
        var firstError: KeyStoreError?
        do {
            try keyStore.ensureTenant(tenant.id)
            for day in Self.voiceExpiryDays(voiceDays: tenant.policy.voiceDays, now: now) {
                do {
                    try keyStore.prepareDayKey(
                        tenantID: tenant.id, kind: .voice, expiresOn: day, refreshingWithin: refreshMargin)
                } catch {
                    firstError = firstError ?? error
                }
            }
        } catch {
            firstError = error
        }
        let at = ContinuousClock.now
        let previous = state.withLock { state -> KeyStoreError? in
            let previous = state.failures[tenant.id]?.error
            guard attempt > state.recordedAttempt[tenant.id, default: 0] else { return previous }
            state.recordedAttempt[tenant.id] = attempt
            state.failures[tenant.id] = firstError.map { Failure(error: $0, at: at) }
            return previous
        }
        if let firstError {
            if previous?.message != firstError.message {
                logger.error(
                    "day keys not prepared: new calls of this tenant are refused until its key provider answers",
                    metadata: ["tenant": "\(tenant.id)", "code": "\(firstError.code.rawValue)", "error": "\(firstError.message)"])
            }
            throw firstError
        }
        if previous != nil {
            logger.notice("day keys prepared again: new calls of this tenant are accepted", metadata: ["tenant": "\(tenant.id)"])
        }
    }

    /// One pass over every tenant in the catalog, on the calling thread (never an event loop).
    /// - Returns: the tenants whose day keys could not be prepared, with why.
    @discardableResult
    public func prepareAll(now: Date = Date()) -> [String: KeyStoreError] {
        let tenants: [Tenant]
        do { tenants = try listTenants() } catch {
            logger.error("day keys not prepared: the catalog is unavailable", metadata: ["error": "\(error.message)"])
            return [:]
        }
        var failed: [String: KeyStoreError] = [:]
        for tenant in tenants {
            do { try prepare(tenant, now: now) } catch { failed[tenant.id] = error }
        }
        state.withLock { $0.passes += 1 }
        return failed
    }

    /// Every tenant, read on this (non-cooperative) thread: the SQLite catalog answers inline; a network
    /// catalog is awaited by blocking this thread (the preparer's own queue or a caller's, never an event
    /// loop or a thread of Swift's cooperative pool), within its own operation deadline.
    private func listTenants() throws(CatalogError) -> [Tenant] {
        if let embedded = catalog as? Catalog { return try embedded.tenants() }
        return try awaitOnThisThread { [catalog] () async throws(CatalogError) in try await catalog.tenants() }
    }

    /// One tenant, read as ``listTenants()`` reads them.
    private func readTenant(id: String) throws(CatalogError) -> Tenant {
        if let embedded = catalog as? Catalog { return try embedded.tenant(id: id) }
        return try awaitOnThisThread { [catalog] () async throws(CatalogError) in try await catalog.tenant(id: id) }
    }

    private func awaitOnThisThread<T: Sendable>(_ work: @escaping @Sendable () async throws(CatalogError) -> T)
        throws(CatalogError) -> T
    {
        let answer = Mutex<Result<T, CatalogError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, CatalogError>
            do throws(CatalogError) { result = .success(try await work()) } catch { result = .failure(error) }
            answer.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try answer.withLock { $0! }.get()
    }

    /// Passes made so far (by ``start()`` or ``prepareAll(now:)``).
    public var passes: Int { state.withLock { $0.passes } }

    /// Starts the passes on the preparer's queue: the first at once, then every ``interval``, until
    /// ``stop()``. Without a key provider nothing is scheduled.
    public func start() {
        guard keyStore.hasDayKeyProviders else { return }
        let generation = state.withLock { state -> Int? in
            guard !state.running else { return nil }
            state.running = true
            state.generation += 1
            return state.generation
        }
        guard let generation else { return }
        queue.async { [self] in pass(generation) }
    }

    /// Stops the passes (a pass under way finishes). Requests already queued still run.
    public func stop() {
        state.withLock { $0.running = false }
    }

    private func pass(_ generation: Int) {
        guard state.withLock({ $0.running && $0.generation == generation }) else { return }
        prepareAll()
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(max(nanoseconds, 1_000_000)))) { [self] in
            pass(generation)
        }
    }

    private func drainPending() {
        let tenantIDs = state.withLock { state -> Set<String> in
            defer { state.pending.removeAll() }
            return state.pending
        }
        for tenantID in tenantIDs.sorted() {
            let tenant: Tenant
            do { tenant = try readTenant(id: tenantID) } catch {
                logger.error("day keys not prepared: tenant not readable", metadata: ["tenant": "\(tenantID)", "error": "\(error.message)"])
                continue
            }
            try? prepare(tenant)
        }
    }
}
