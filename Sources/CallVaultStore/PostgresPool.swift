import Logging
import Synchronization
internal import NIOSSL
internal import PostgresNIO

/// A node's connection pool to the shared PostgreSQL database, as each PostgreSQL-backed store opens
/// it: a `PostgresClient` (up to `settings.maximumConnections`), a first connection made directly so an
/// unreachable server, a missing database or a refused login fail at once with the reason, and the
/// schema brought to this binary's version (``PostgresSchema``).
final class PostgresPool: Sendable {
    let settings: PostgresStoreSettings
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// Connects, waits for a first connection within `settings.connectTimeout`, and migrates the schema.
    /// `what` names the operation in error messages ("open the job queue").
    static func open(_ settings: PostgresStoreSettings, logger: Logger, doing what: String) async throws(JobQueueError)
        -> PostgresPool
    {
        let pool = PostgresPool(settings: settings, logger: logger)
        do {
            try await pool.withDeadline(settings.connectTimeout) {
                try await pool.probe()
            }
            // Bounded like every other operation, if generously (another node may be migrating): a store
            // that cannot open says so rather than wait for ever.
            try await pool.withDeadline(.seconds(600)) {
                try await PostgresSchema.migrate(pool.client, settings: settings, logger: logger)
            }
        } catch {
            await pool.close()
            throw PostgresErrors.queueError(error, doing: what, settings: settings)
        }
        return pool
    }

    private init(settings: PostgresStoreSettings, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: settings.host,
            port: settings.port,
            username: settings.username,
            password: settings.password,
            database: settings.database,
            tls: Self.tls(settings.tls)
        )
        configuration.options.maximumConnections = max(1, settings.maximumConnections)
        configuration.options.additionalStartupParameters = Self.serverTimeouts(settings)
        StoreMetrics.recordPoolSize(max(1, settings.maximumConnections))
        configuration.options.connectTimeout = settings.connectTimeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.settings = settings
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// Limits the server enforces on every session, so that work this node gave up on does not keep
    /// running or holding locks there: `statement_timeout` (no statement outlives the longest deadline a
    /// caller waits for, ``PostgresStoreSettings/longReadTimeout``) and
    /// `idle_in_transaction_session_timeout` (a node that stalls or dies between a statement and its
    /// commit — holding, say, the audit chain's head row — is cut off and its transaction rolled back).
    static func serverTimeouts(_ settings: PostgresStoreSettings) -> [(String, String)] {
        let statement = max(settings.operationTimeout, settings.longReadTimeout) + .seconds(1)
        let idle = max(settings.operationTimeout * 2, .seconds(10))
        return [
            ("statement_timeout", "\(milliseconds(statement))ms"),
            ("idle_in_transaction_session_timeout", "\(milliseconds(idle))ms"),
        ]
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Closes the pool's connections. The pool cannot be used after.
    ///
    /// Waits at most 10 s for the client's run loop to end: postgres-nio's `run()` was seen to outlive its
    /// cancellation with no connection left (a full test run on a loaded 2-core machine hung there), and a
    /// closing store must not hold its caller, a shutting-down `serve`, for ever.
    func close() async {
        runner.cancel()
        let runner = self.runner
        do {
            try await Self.withDeadline(.seconds(10), { await runner.value }, timeout: { CancellationError() })
        } catch {
            logger.warning("the PostgreSQL pool did not stop within 10 s; left to end by itself")
        }
    }

    deinit { runner.cancel() }

    /// One connection made directly, not through the pool: the pool retries a failing connection
    /// forever, while this fails at once with the reason (refused, no such database, bad password).
    private func probe() async throws {
        let connection = try await connectDirectly(id: 0)
        try await connection.close()
    }

    /// A connection of its own, outside the pool (for a probe, or to LISTEN on), within `connectTimeout`.
    func connectDirectly(id: Int) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: try Self.connectionConfiguration(settings), id: id, logger: logger)
    }

    /// How a connection made outside the pool connects: the settings' server, TLS mode and `connectTimeout`,
    /// with the same session limits as the pool's (``serverTimeouts(_:)``).
    static func connectionConfiguration(_ settings: PostgresStoreSettings) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch settings.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: settings.host,
            port: settings.port,
            username: settings.username,
            password: settings.password,
            database: settings.database,
            tls: tls
        )
        let limit = settings.connectTimeout.components
        configuration.options.connectTimeout = .milliseconds(
            max(1, limit.seconds * 1000 + limit.attoseconds / 1_000_000_000_000_000)
        )
        configuration.options.additionalStartupParameters = serverTimeouts(settings)
        return configuration
    }

    private static func tls(_ mode: PostgresStoreSettings.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Runs one operation of a store against the pool within `limit` (``PostgresStoreSettings/operationTimeout``
    /// unless given): past it, `unavailable` naming the database and `what` was being done. While the
    /// database is down the pool reconnects in the background (with backoff) and a request for a connection
    /// would wait for it forever; with the deadline the caller gets the reason instead, and the same pool
    /// serves again once the database is back. An operation that timed out is cancelled; if its statement
    /// had already reached the server, its outcome is unknown (as with any lost connection), which is why
    /// every queue update is fenced or idempotent.
    func run<T: Sendable>(
        _ what: String, within limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let limit = limit ?? settings.operationTimeout
        let target = settings.description
        let started = ContinuousClock.now
        let inFlight = StoreMetrics.inFlight
        inFlight.increment()
        defer { inFlight.decrement() }
        // Set by the deadline itself, so the metric's outcome does not depend on an error's wording.
        let timedOut = DeadlineFlag()
        do {
            let result = try await Self.withDeadline(limit, body) {
                timedOut.value.store(true, ordering: .relaxed)
                return JobQueueError(
                    .unavailable,
                    "cannot \(what): PostgreSQL at \(target) did not answer within \(Self.format(limit)) (is it running "
                        + "and reachable? the pool keeps reconnecting: try again once it is back)")
            }
            Self.record(since: started, outcome: "ok")
            return result
        } catch {
            Self.record(since: started, outcome: timedOut.value.load(ordering: .relaxed) ? "timeout" : "error")
            throw error
        }
    }

    private static func record(since started: ContinuousClock.Instant, outcome: String) {
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        StoreMetrics.recordOperation(backend: "postgres", outcome: outcome, nanoseconds: nanoseconds)
    }

    private func withDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let target = settings.description
        try await Self.withDeadline(limit, body) {
            JobQueueError(
                .unavailable,
                "PostgreSQL at \(target) did not answer within \(Self.format(limit)) (is it running, and does "
                    + "pg_hba.conf let this host in?)")
        }
    }

    /// "5 s", "1.5 s", "250 ms".
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }

    /// `body`'s result, or `timeout()` thrown once `limit` has passed, whichever comes first. Returns at the
    /// deadline even when `body` ignores cancellation (a task group would wait for it): `body` runs in a task
    /// of its own, cancelled when the deadline or the caller's cancellation wins, and left to end by itself.
    static func withDeadline<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T,
        timeout: @escaping @Sendable () -> any Error
    ) async throws -> T {
        let race = DeadlineRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    if !Task.isCancelled { race.finish(.failure(timeout())) }
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.cancelWork()
        }
    }
}

/// Who finishes first, an operation or its deadline: the first result resumes the caller, the rest is
/// cancelled.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var finished = false
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let cancel = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.finished || state.cancelled
        }
        if cancel {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let won = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?)? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        guard let (continuation, work, timer) = won else { return }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(with: result)
    }

    func cancelWork() {
        let work = state.withLock { state in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }
}

/// Whether an operation's deadline passed: shared by the operation and its timer, which may outlive it.
private final class DeadlineFlag: Sendable {
    let value = Atomic(false)
}
