import Logging
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
            try await PostgresSchema.migrate(pool.client, settings: settings, logger: logger)
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
        configuration.options.connectTimeout = settings.connectTimeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.settings = settings
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// Closes the pool's connections. The pool cannot be used after.
    func close() async {
        runner.cancel()
        await runner.value
    }

    deinit { runner.cancel() }

    /// One connection made directly, not through the pool: the pool retries a failing connection
    /// forever, while this fails at once with the reason (refused, no such database, bad password).
    private func probe() async throws {
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
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }

    private static func tls(_ mode: PostgresStoreSettings.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Runs `body`, or fails with `unavailable` when it takes longer than `limit` (a database that does
    /// not answer must not hang a node's start).
    private func withDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished {
                throw JobQueueError(
                    .unavailable,
                    "PostgreSQL at \(settings.description) did not answer within \(limit) (is it running, and does "
                        + "pg_hba.conf let this host in?)"
                )
            }
        }
    }
}
