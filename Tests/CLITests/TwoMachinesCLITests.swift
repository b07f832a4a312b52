import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// Two data directories — two "machines" — on one PostgreSQL database and one OpenBao Transit engine,
/// run as child processes the way operators run them: what one seals the other reads, and shredding on
/// one makes it unreadable on both (and in a backup of the sealed files).
///
/// The sealed files are shared the way a mount shares them (both directories name one objects directory:
/// `init --objects DIR`), and the second directory gets the first's
/// root key before its `init` (the tenant keys in the database are wrapped under it; see
/// docs/store-postgres.md, "Key store").
@Suite(
    "Two machines on one database and one key provider",
    .enabled(
        if: (PostgresServer.canRunOrMustFail && OpenBaoServer.binary != nil) || Services.required,
        "CALLVAULT_SKIP_SERVICES=1 and PostgreSQL or OpenBao is missing"),
    .timeLimit(.minutes(15)))
struct TwoMachinesCLITests {
    @Test func aRecordingSealedOnOneMachineIsReadOnTheOtherAndShreddingOnOneKillsItOnBoth() throws {
        let executable = try #require(CatalogCLIProcess.executable(), "build the callvault executable first")
        let bao = try OpenBaoServer()
        defer { _ = try? bao.kill() }
        let server = try PostgresServer.shared()
        let database = try server.createDatabase()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let url = server.settings(database: database).url
        let root = try TemporaryDirectory("two-machines")
        defer { root.remove() }
        let first = root.appending("first")
        let second = root.appending("second")
        let environment = ["CALLVAULT_TRANSIT_TOKEN": bao.token]
        func run(_ arguments: [String], on data: String) throws -> ChildProcess.Output {
            try ChildProcess.run(
                executable, arguments, environment: environment.merging(["CALLVAULT_DATA": data]) { $1 },
                timeout: .seconds(180))
        }
        let objects = root.appending("objects")
        let initArguments = [
            "init", "--database", url, "--key-provider", "transit", "--transit-url", bao.url, "--objects", objects, "--json",
        ]

        // The first machine: keys in the database, none in the directory.
        let initialised = try run(initArguments, on: first)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect((try initialised.json()["keyStore"] as? String)?.hasPrefix("postgres://") == true, "\(initialised.stdout)")
        #expect(!FileManager.default.fileExists(atPath: first + "/keys.sqlite"))
        let added = try run(["tenant", "add", "acme", "--consent-digit", "1", "--json"], on: first)
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)
        let token = try #require(try added.json()["token"] as? String)
        #expect(try server.psql(database: database, "SELECT count(*) FROM key_tenant WHERE tenant_id = '\(tenantID)'") == "1")

        // The second machine: the first's root key, then init on the same database and provider.
        #expect(mkdir(second, 0o700) == 0)
        try FileManager.default.copyItem(atPath: first + "/root.key", toPath: second + "/root.key")
        let joined = try run(initArguments, on: second)
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(!FileManager.default.fileExists(atPath: second + "/keys.sqlite"))
        // A third directory set up on its own (its own root key) is told at init, naming the fix.
        let stranger = try run(initArguments, on: root.appending("stranger"))
        #expect(stranger.status == 1, "\(stranger.stdout) \(stranger.stderr)")
        #expect(stranger.stderr.contains("same root.key"), "\(stranger.stderr)")

        // A call recorded on the first machine.
        let serve = try ChildProcess(
            executable, ["serve", "--http", "127.0.0.1:0"],
            environment: environment.merging(["CALLVAULT_DATA": first]) { $1 })
        let listening = try serve.waitForLine("serve's `listening` line", timeout: .seconds(60)) {
            $0.hasPrefix("listening ")
        }
        let port = try #require(listening.split(separator: ":").last.map(String.init))
        let simulated = try ChildProcess.run(
            executable,
            [
                "simulate", "--url", "ws://127.0.0.1:\(port)/v1/twilio", "--token", token,
                "--file", Repository.sample("caller.flac"), "--bot-file", Repository.sample("bot.flac"),
                "--consent-at", "3", "--call-prefix", "CA-two",
            ],
            environment: environment, timeout: .seconds(120))
        #expect(simulated.status == 0, "\(simulated.stdout) \(simulated.stderr)")
        let served = try serve.stop(SIGTERM, timeout: .seconds(30))
        #expect(served.status == 0, "\(served.stderr)")
        #expect(!served.stderr.contains(bao.token), "no token in serve's log")
        #expect(try server.psql(database: database, "SELECT count(*) FROM key_data") == "2", "one data key per track")
        let dayKeys = try server.psql(database: database, "SELECT count(*) FROM key_day WHERE provider_key IS NULL")
        #expect(dayKeys == "0", "every day key is wrapped by the provider")

        // Read on the second machine.
        let exported = try run(["calls", "export", "CA-two-1", "--out", root.appending("second.wav")], on: second)
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        let size = (try? FileManager.default.attributesOfItem(atPath: root.appending("second.wav"))[.size] as? Int) ?? 0
        #expect(size > 1_000_000, "46 s of stereo audio")
        let recordings = try run(["recordings", "list", "--json"], on: second)
        #expect(recordings.status == 0 && recordings.stdout.contains("complete"), "\(recordings.stdout)")

        // A copy of the sealed files, then the second machine's sweep at expiry.
        let backup = root.appending("backup")
        #expect(try ChildProcess.run(URL(fileURLWithPath: "/bin/cp"), ["-a", objects + "/recordings", backup]).status == 0)
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(91 * 86_400))
        let swept = try run(["sweep", "--once", "--now", later, "--json"], on: second)
        #expect(swept.status == 0, "\(swept.stderr)")
        #expect((try swept.json()["recordingsShredded"] as? [String])?.count == 2, "\(swept.stdout)")

        // Unreadable on both machines, and the backup's copies too.
        for data in [first, second] {
            let again = try run(["calls", "export", "CA-two-1", "--out", root.appending("again.wav")], on: data)
            #expect(again.status == 1, "\(data): \(again.stdout) \(again.stderr)")
            #expect(again.stderr.contains("shredded"), "\(again.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appending("again.wav")))
        let copies = (FileManager.default.enumerator(atPath: backup)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".cvr") }.map { backup + "/" + $0 }
        #expect(copies.count == 2)
        let verified = try run(["verify", "--json"] + copies, on: first)
        let results = try #require(try verified.json()["recordings"] as? [[String: Any]], "\(verified.stdout)")
        #expect(results.count == 2 && results.allSatisfy { $0["status"] as? String == "shredded" }, "\(verified.stdout)")
        #expect(try server.psql(database: database, "SELECT count(*) FROM key_data") == "0")
    }

    @Test func migrateStoreMovesATransitDirectorysKeysIntoTheDatabaseAndALocalOnesStay() throws {
        let executable = try #require(CatalogCLIProcess.executable(), "build the callvault executable first")
        let bao = try OpenBaoServer()
        defer { _ = try? bao.kill() }
        let server = try PostgresServer.shared()
        let database = try server.createDatabase()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let url = server.settings(database: database).url
        let root = try TemporaryDirectory("migrate-keys")
        defer { root.remove() }
        let data = root.appending("data")
        func run(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.run(
                executable, arguments,
                environment: ["CALLVAULT_TRANSIT_TOKEN": bao.token, "CALLVAULT_DATA": data], timeout: .seconds(180))
        }
        #expect(try run(["init", "--key-provider", "transit", "--transit-url", bao.url]).status == 0)
        let added = try run(["tenant", "add", "acme", "--json"])
        let tenantID = try #require(try added.json()["id"] as? String)
        let recorded = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let first = try #require(recorded.stdout.split(separator: "\n").first)
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let recordingID = try #require(opened["recordingId"] as? String)

        let migrated = try run(["migrate-store", "--to", url, "--json"])
        #expect(migrated.status == 0, "\(migrated.stdout) \(migrated.stderr)")
        let keys = try #require(try migrated.json()["keys"] as? [String: Any], "\(migrated.stdout)")
        #expect(keys["verified"] as? Bool == true)
        let tables = try #require(keys["tables"] as? [[String: Any]])
        let dataKeys = try #require(tables.first { $0["table"] as? String == "key_data" })
        #expect(dataKeys["source"] as? Int == 1 && dataKeys["target"] as? Int == 1, "\(tables)")
        #expect(try String(contentsOfFile: data + "/database.json", encoding: .utf8).contains("\"keys\" : \"postgres\""))
        // keys.sqlite is no longer read: with it gone the recording still opens, from the database.
        try FileManager.default.moveItem(atPath: data + "/keys.sqlite", toPath: root.appending("keys.sqlite.old"))
        let verified = try run(["verify", recordingID])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/keys.sqlite"))
        let again = try run(["migrate-store", "--to", url])
        #expect(again.status == 1 && again.stderr.contains("and its keys"), "\(again.stderr)")

        // The sweep at expiry shreds through the database's keys.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(91 * 86_400))
        #expect(try run(["sweep", "--once", "--now", later]).status == 0)
        let gone = try run(["verify", recordingID, "--json"])
        let results = try #require(try gone.json()["recordings"] as? [[String: Any]], "\(gone.stdout)")
        #expect(results.first?["status"] as? String == "shredded", "\(gone.stdout)")
        #expect(try server.psql(database: database, "SELECT count(*) FROM key_data") == "0")
    }
}
