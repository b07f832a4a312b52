/// Where a PostgreSQL-backed store lives, and how to reach it.
///
/// The password is kept only to connect: ``description`` and every error message name the user, host,
/// port and database, never the password.
public struct PostgresStoreSettings: Sendable, CustomStringConvertible {
    /// How the connection is encrypted, as libpq's `sslmode` (`disable`, `prefer`, `require`).
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Connections the pool opens at most (each worker holds one only for a statement).
    public var maximumConnections: Int
    /// How long opening the store waits for a first connection before it reports the database unreachable.
    public var connectTimeout: Duration
    /// How long one operation (a claim, a completion, an append: waiting for a pooled connection
    /// included) may take before it fails with `unavailable`. While the database is down the pool keeps
    /// reconnecting in the background, and without this an operation would wait for it forever.
    public var operationTimeout: Duration
    /// The same for the operations that read a whole table (listing every job, verifying the whole audit
    /// chain), whose time grows with the data.
    public var longReadTimeout: Duration

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
        tls: TLSMode = .prefer, maximumConnections: Int = 10, connectTimeout: Duration = .seconds(10),
        operationTimeout: Duration = .seconds(5), longReadTimeout: Duration = .seconds(120)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
        self.connectTimeout = connectTimeout
        self.operationTimeout = operationTimeout
        self.longReadTimeout = longReadTimeout
    }

    /// `postgres://USER@HOST:PORT/DATABASE`: what messages and logs name (no password).
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}
