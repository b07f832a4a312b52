public import CallVaultStore
import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The PostgreSQL 15 server the tests of the PostgreSQL store run against, and a fresh database per test.
///
/// One cluster per test process, shared: the one `scripts/test` started with `scripts/services start
/// postgres` (its address in `CALLVAULT_TEST_POSTGRES_HOST` / `_PORT` / `_USER`; that script stops and
/// removes it on exit), or else a throwaway cluster this process starts on first use — `initdb` and
/// `pg_ctl` from Debian's postgresql-15 in a temporary directory owned by the `postgres` user (initdb
/// refuses root), trust authentication on 127.0.0.1 only, fsync off — shut down (immediate) and removed
/// when the process exits. Tests keep apart by each making its own database (``createDatabase()``).
///
/// Without PostgreSQL the tests that need it fail naming the install command, unless
/// `CALLVAULT_SKIP_SERVICES=1` (``Services``), when they are skipped with ``skipReason``.
public final class PostgresServer: Sendable {
    public let host: String
    public let port: Int
    public let user: String

    /// Debian's postgresql-15 programs (or `$CALLVAULT_POSTGRES_BIN`).
    public static var binDirectory: String {
        ProcessInfo.processInfo.environment["CALLVAULT_POSTGRES_BIN"] ?? "/usr/lib/postgresql/15/bin"
    }

    /// What to tell someone who has no PostgreSQL.
    public static let installHint =
        "PostgreSQL 15 is not installed: run `apt-get install postgresql-15` (scripts/bootstrap and "
        + "`scripts/services install postgres` do), or set CALLVAULT_SKIP_SERVICES=1 to skip the tests that need it"

    /// Shown for each skipped test.
    public static let skipReason =
        "SKIPPED: PostgreSQL 15 is not installed and CALLVAULT_SKIP_SERVICES=1 — the PostgreSQL store is NOT "
        + "tested; run apt-get install postgresql-15"

    /// Whether a server is given by the environment, or the programs to start one are installed.
    public static var isAvailable: Bool {
        fromEnvironment != nil
            || ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: binDirectory + "/" + $0)
            }
    }

    /// Whether the tests that need PostgreSQL run: it is available, or they must fail for want of it.
    /// False only when it is missing and `CALLVAULT_SKIP_SERVICES=1`.
    public static var canRunOrMustFail: Bool { isAvailable || Services.required }

    /// The process's server: the environment's, or one started on first use; throws ``installHint``
    /// when there is none to be had.
    public static func shared() throws -> PostgresServer { try sharedServer.get() }

    private static let sharedServer: Result<PostgresServer, any Error> = Result {
        if let given = fromEnvironment { return given }
        return try startOwnCluster()
    }

    private static var fromEnvironment: PostgresServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["CALLVAULT_TEST_POSTGRES_HOST"], !host.isEmpty,
            let port = environment["CALLVAULT_TEST_POSTGRES_PORT"].flatMap({ Int($0) })
        else { return nil }
        return PostgresServer(host: host, port: port, user: environment["CALLVAULT_TEST_POSTGRES_USER"] ?? "postgres")
    }

    /// The cluster's data directory when this process started it (nil for a server given by the
    /// environment): what ``stop()`` and ``start()`` act on.
    public let dataDirectory: String?

    private init(host: String, port: Int, user: String, dataDirectory: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.dataDirectory = dataDirectory
    }

    /// Store settings for `database` on this server (no TLS: loopback, trust authentication). The
    /// operation deadline is 2 minutes, not the default 5 s, and the first connection may take a minute: the full suite starts every test at once on a
    /// shared 2-core machine, where a healthy operation can wait seconds for a thread. The tests of the
    /// deadline itself set their own.
    public func settings(database: String, maximumConnections: Int = 10) -> PostgresStoreSettings {
        PostgresStoreSettings(
            host: host, port: port, username: user, database: database, tls: .disable,
            maximumConnections: maximumConnections, connectTimeout: .seconds(60), operationTimeout: .seconds(120))
    }

    /// A logger for stores opened in tests: warnings and errors only (no line per migration).
    public static var quietLogger: Logger {
        var logger = Logger(label: "callvault.postgres.test")
        logger.logLevel = .warning
        return logger
    }

    /// Makes an empty database `cv_test_<random>` and returns its name. (`CREATE DATABASE` runs in a
    /// statement of its own: it cannot run inside a transaction block.)
    public func createDatabase() throws -> String {
        var generator = SystemRandomNumberGenerator()
        let name = "cv_test_" + String(generator.next() as UInt64, radix: 36)
        try psql(database: "postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// ``createDatabase()`` from async code, without holding a thread of the cooperative pool.
    public func createDatabaseOffPool() async throws -> String {
        try await offCooperativePool { try self.createDatabase() }
    }

    /// Drops `database` (ignoring a failure) from async code, without holding a thread of the pool.
    public func dropDatabaseOffPool(_ database: String) async {
        _ = try? await offCooperativePool {
            try self.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }

    /// Runs SQL with psql against `database`; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(database: String, _ sql: String) throws -> String {
        let output = try ChildProcess.run(
            URL(fileURLWithPath: Self.binDirectory + "/psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user, "-d", database,
             "-c", sql],
            timeout: .seconds(120))
        guard output.status == 0, !output.signalled else {
            throw ChildProcessError("psql -d \(database) -c \(sql) failed: \(output.stderr)\(output.stdout)")
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: - A cluster of our own

    /// The data directories of the clusters this process started, for the exit handler.
    private static let ownDirectories = Mutex<[String]>([])

    /// Registers the exit handler once.
    private static let exitHandler: Void = {
        atexit { PostgresServer.stopOwnClusters() }
    }()

    private static func startOwnCluster() throws -> PostgresServer { try startCluster() }

    /// A cluster of this test's own, not the shared one: for a test that stops and starts the server
    /// (``stop()``, ``start()``), which must not take the database away from tests running beside it.
    /// Shut down and removed at process exit, or by ``remove()``.
    public static func startPrivate() throws -> PostgresServer { try startCluster() }

    private static func startCluster() throws -> PostgresServer {
        guard ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy({
            FileManager.default.isExecutableFile(atPath: binDirectory + "/" + $0)
        }) else { throw ChildProcessError(installHint) }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("callvault-postgres-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if getuid() == 0 {
            guard let owner = getpwnam("postgres") else {
                throw ChildProcessError("running as root, and there is no `postgres` user to own the cluster (initdb refuses root)")
            }
            guard chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid) == 0 else {
                throw ChildProcessError("cannot give \(directory) to the postgres user: errno \(errno)")
            }
        }
        _ = exitHandler
        ownDirectories.withLock { $0.append(directory) }
        try asOwner(
            "initdb",
            ["-D", directory + "/data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        var lastFailure = ""
        for _ in 0..<3 {
            let port = Int(try UnusedPort().port)  // released at once: postgres binds it next
            let server = PostgresServer(host: "127.0.0.1", port: port, user: "postgres", dataDirectory: directory)
            do {
                try server.start()
                return server
            } catch {
                lastFailure = "\(error)"
                let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
                if !log.contains("could not bind") { break }
            }
        }
        throw ChildProcessError("PostgreSQL did not start in \(directory): \(lastFailure)")
    }

    /// Starts this process's own cluster (again) on its port; waits until it accepts connections.
    public func start() throws {
        guard let directory = dataDirectory else {
            throw ChildProcessError("the PostgreSQL server at \(host):\(port) was not started by this process")
        }
        try Self.asOwner(
            "pg_ctl",
            [
                "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "60", "-o",
                "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off -c synchronous_commit=off "
                    + "-c full_page_writes=off -c max_connections=200",
                "start",
            ])
    }

    /// Stops this process's own cluster (`pg_ctl stop -m fast`: every connection is cut at once, then a
    /// clean shutdown, so what was committed survives even with this cluster's `fsync=off` and
    /// `synchronous_commit=off`); waits until it is down.
    public func stop() throws {
        guard let directory = dataDirectory else {
            throw ChildProcessError("the PostgreSQL server at \(host):\(port) was not started by this process")
        }
        try Self.asOwner("pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Shuts this process's own cluster down and removes its directory.
    public func remove() {
        guard let directory = dataDirectory else { return }
        Self.stopCluster(directory)
        Self.ownDirectories.withLock { $0.removeAll { $0 == directory } }
    }

    /// Runs a PostgreSQL program as the cluster's owner: `postgres` when we are root, else ourselves.
    private static func asOwner(_ program: String, _ arguments: [String]) throws {
        let path = binDirectory + "/" + program
        let output =
            getuid() == 0
            ? try ChildProcess.run(
                URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", path] + arguments,
                timeout: .seconds(120))
            : try ChildProcess.run(URL(fileURLWithPath: path), arguments, timeout: .seconds(120))
        guard output.status == 0, !output.signalled else {
            throw ChildProcessError("\(program) failed: \(output.stderr)\(output.stdout)")
        }
    }

    /// At exit: an immediate shutdown of our clusters (SIGQUIT to the postmaster), then their directories removed.
    private static func stopOwnClusters() {
        for directory in ownDirectories.withLock({ $0 }) { stopCluster(directory) }
    }

    private static func stopCluster(_ directory: String) {
        if let pidFile = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let line = pidFile.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces))
        {
            kill(pid, SIGQUIT)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
