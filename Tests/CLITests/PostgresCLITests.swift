import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault init --database` and the catalog commands on a real PostgreSQL 15 server, run as child
/// processes the way an operator runs them.
@Suite(
    "CLI on PostgreSQL",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .timeLimit(.minutes(15)))
struct PostgresCLITests {
    /// A data directory path (not created) and a fresh database on the shared test server.
    private struct Setup {
        let executable: URL
        let directory: String
        let server: PostgresServer
        let database: String
        var url: String { server.settings(database: database).url }

        init() throws {
            executable = try #require(CatalogCLIProcess.executable(), "build the callvault executable first")
            directory = NSTemporaryDirectory() + "callvault-pg-cli-" + UUID().uuidString
            server = try PostgresServer.shared()
            database = try server.createDatabase()
        }

        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Output {
            try ChildProcess.run(
                executable, arguments, environment: ["CALLVAULT_DATA": directory].merging(environment) { $1 },
                timeout: .seconds(120))
        }

        func tearDown() {
            try? FileManager.default.removeItem(atPath: directory)
            _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }

    @Test func initOnPostgreSQLThenEveryCatalogCommandUsesTheDatabase() throws {
        let setup = try Setup()
        defer { setup.tearDown() }
        let initialised = try setup.run(["init", "--database", setup.url, "--json"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(try initialised.json()["catalog"] as? String == setup.url)
        // The directory names the database (no secret) and has no SQLite catalog.
        let file = DataDirectory(path: setup.directory).path + "/database.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains(setup.url))
        #expect(!FileManager.default.fileExists(atPath: DataDirectory(path: setup.directory).catalogPath))
        // Running init again is a no-op.
        #expect(try setup.run(["init", "--database", setup.url]).status == 0)

        let added = try setup.run(["tenant", "add", "acme", "--voice-days", "30", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(try added.json()["id"] as? String)
        #expect(try setup.server.psql(database: setup.database, "SELECT name || ':' || voice_days FROM tenants") == "acme:30")
        let listed = try setup.run(["tenant", "list", "--json"])
        #expect(listed.status == 0 && listed.stdout.contains(id), "\(listed.stderr)")
        #expect(try setup.run(["tenant", "set", id, "--voice-days", "14"]).status == 0)
        let shown = try setup.run(["tenant", "show", id, "--json"])
        #expect(shown.stdout.contains("\"voiceDays\" : 14"), "\(shown.stdout)")
        for command in [["calls", "list", "--json"], ["recordings", "list", "--json"], ["jobs", "list", "--json"]] {
            let result = try setup.run(command)
            #expect(result.status == 0, "\(command): \(result.stderr)")
        }
        let audit = try setup.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains("tenant.created") && audit.stdout.contains("tenant.policy_changed"), "\(audit.stdout)")
        let verified = try setup.run(["audit", "verify", "--json"])
        #expect(verified.status == 0 && verified.stdout.contains("\"entries\" : 2"), "\(verified.stdout)")
        // The chain is the database's: the server holds both entries.
        #expect(try setup.server.psql(database: setup.database, "SELECT count(*) FROM audit_log") == "2")
    }

    @Test func initRefusesAPasswordInTheURLAnUnreachableDatabaseAndMovingAnSQLiteDirectory() throws {
        let setup = try Setup()
        defer { setup.tearDown() }
        let withPassword = try setup.run(["init", "--database", "postgres://u:secret@127.0.0.1:5432/db"])
        #expect(withPassword.status == 2)
        #expect(withPassword.stderr.contains("must not hold a password") && !withPassword.stderr.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: setup.directory))

        // A port nothing listens on: refused, and the directory does not point at it.
        let closed = try setup.run(["init", "--database", "postgres://postgres@127.0.0.1:9/nothing?sslmode=disable"])
        #expect(closed.status == 1)
        #expect(closed.stderr.hasPrefix("callvault: error: ") && closed.stderr.contains("127.0.0.1:9"), "\(closed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: setup.directory + "/database.json"))

        // An SQLite directory is not moved by init.
        #expect(try setup.run(["init"]).status == 0)
        let moved = try setup.run(["init", "--database", setup.url])
        #expect(moved.status == 1 && moved.stderr.contains("cannot move it to PostgreSQL"), "\(moved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: setup.directory + "/database.json"))
    }

    @Test func theEnvironmentNamesTheDatabaseForOneProcess() throws {
        let setup = try Setup()
        defer { setup.tearDown() }
        #expect(try setup.run(["init"]).status == 0)
        #expect(try setup.run(["tenant", "add", "on-sqlite"]).status == 0)
        let environment = ["CALLVAULT_DATABASE_URL": setup.url]
        #expect(try setup.run(["tenant", "add", "on-postgres"], environment: environment).status == 0)
        let onPostgres = try setup.run(["tenant", "list"], environment: environment)
        #expect(onPostgres.stdout.contains("on-postgres") && !onPostgres.stdout.contains("on-sqlite"), "\(onPostgres.stdout)")
        let onSQLite = try setup.run(["tenant", "list"])
        #expect(onSQLite.stdout.contains("on-sqlite") && !onSQLite.stdout.contains("on-postgres"))
    }

    @Test func migrateStoreMovesARecordedDirectoryAndCommandsFollowIt() throws {
        let setup = try Setup()
        defer { setup.tearDown() }
        #expect(try setup.run(["init"]).status == 0)
        let added = try setup.run(["tenant", "add", "acme", "--json"])
        let tenant = try #require(try added.json()["id"] as? String)
        let recorded = try setup.run(["_record-sample", "--tenant", tenant, "--seconds", "2"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let before = try setup.run(["audit", "verify", "--json"])

        let migrated = try setup.run(["migrate-store", "--to", setup.url, "--json"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let report = try migrated.json()
        #expect(report["verified"] as? Bool == true)
        let tables = try #require(report["tables"] as? [[String: Any]])
        let recordings = try #require(tables.first { $0["table"] as? String == "recordings" })
        #expect((recordings["source"] as? Int ?? 0) >= 1 && recordings["source"] as? Int == recordings["target"] as? Int)
        #expect(FileManager.default.fileExists(atPath: setup.directory + "/database.json"))
        // The same chain, now read from PostgreSQL.
        let after = try setup.run(["audit", "verify", "--json"])
        #expect(after.status == 0 && after.stdout == before.stdout, "\(before.stdout)\n\(after.stdout)")
        #expect(try setup.server.psql(database: setup.database, "SELECT count(*) FROM recordings") == "\(recordings["source"] as? Int ?? -1)")

        let calls = try setup.run(["calls", "list", "--json"])
        #expect(calls.status == 0 && calls.stdout.contains(tenant), "\(calls.stderr)")
        let listed = try setup.run(["recordings", "list", "--json"])
        #expect(listed.status == 0 && listed.stdout.contains("\"complete\""), "\(listed.stdout)")

        // Again: nothing to migrate. `verify --all` reads the catalog where it now is; a command that
        // needs the SQLite catalog refuses, naming why.
        let again = try setup.run(["migrate-store", "--to", setup.url])
        #expect(again.status == 1 && again.stderr.contains("already keeps its catalog"))
        let verify = try setup.run(["verify", "--all"])
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok"), "\(verify.stdout)\(verify.stderr)")
        let sample = try setup.run(["_record-sample", "--tenant", tenant, "--seconds", "1"])
        #expect(sample.status == 1 && sample.stderr.contains("does not run on a PostgreSQL catalog yet"), "\(sample.stderr)")
    }
}
