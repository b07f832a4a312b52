import CallVaultAudio
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 14's many-node picture on one machine: two `serve` nodes, three `transcribe --pending` workers and
/// a `sweep`, all on one PostgreSQL catalog and one objects directory. Calls spread over both servers; one
/// server is killed (`kill -9`) mid-call and the other recovers its recording; a worker is paused
/// (`SIGSTOP`) holding a job past its lease, another finishes that job, and the paused one's late outcome is
/// refused. Every call is recorded and transcribed exactly once, and the audit chain is intact.
///
/// Two data directories, as two machines have: each server, worker and the sweeper runs on one of them.
/// Both are on the same database (catalog, queue, audit log and key store) and OpenBao Transit (day keys),
/// the second made with the first's root key, and both keep their sealed files in one objects directory.
@Suite(
    "many nodes on one PostgreSQL catalog",
    .enabled(
        if: (PostgresServer.canRunOrMustFail && OpenBaoServer.binary != nil && S3TestServer.canRunOrMustFail)
            || Services.required,
        "CALLVAULT_SKIP_SERVICES=1 and PostgreSQL, OpenBao or the S3 server is missing"),
    .serialized, .timeLimit(.minutes(15)))
struct MultiNodeEndToEndTests {
    /// μ-law speech (samples/answer.ulaw.wav), 160 bytes per 20 ms frame.
    static func speechFrames() throws -> [[UInt8]] {
        let samples = try AudioFileReader(path: Repository.samples + "/answer.ulaw.wav").readAllMono()
        let bytes = samples.map(G711.linearToMuLaw)
        return stride(from: 0, to: bytes.count - 159, by: 160).map { Array(bytes[$0..<($0 + 160)]) }
    }

    static func media(_ payload: [UInt8], frame: Int) -> [UInt8] {
        let encoded = Data(payload).base64EncodedString()
        return Array(
            #"{"event":"media","sequenceNumber":"\#(frame + 3)","media":{"track":"inbound","chunk":"\#(frame + 1)","timestamp":"\#(frame * 20)","payload":"\#(encoded)"},"streamSid":"MZ1"}"#
                .utf8)
    }

    /// Streams the speech as one call to `port`; with `finish`, stops it and waits for the server's close.
    static func call(_ sid: String, port: Int, token: String, speech: [[UInt8]], finish: Bool) throws -> TestSocketClient {
        let ws = try TestSocketClient(port: port, readTimeout: 30)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: sid))
        for (index, frame) in speech.enumerated() { ws.sendFrame(opcode: 1, media(frame, frame: index)) }
        if finish {
            ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
            #expect(ws.readFrame().map { TestSocketClient.closeCode($0.payload).code } == 1000, "\(sid) closed normally")
        }
        return ws
    }

    /// Where the two machines keep their sealed files: one objects directory both mount, or an S3 bucket
    /// (moto) with each machine's own spool, no shared file system at all.
    enum Objects: String, CaseIterable, Sendable {
        case sharedDirectory, s3Bucket
    }

    @Test(arguments: Objects.allCases)
    func twoServersThreeWorkersAndASweeperShareOneCatalogThroughAKillAndAPausedWorker(_ place: Objects) throws {
        let postgres = try PostgresServer.shared()
        let database = try postgres.createDatabase()
        defer { _ = try? postgres.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let bao = try OpenBaoServer()
        defer { _ = try? bao.kill() }
        let root = try TemporaryDirectory.make("multi-node")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (first, second) = (root + "/first", root + "/second")
        let objects = root + "/objects"
        let executable = try #require(Repository.callvault)
        var environment = ["CALLVAULT_TRANSIT_TOKEN": bao.token]
        var objectsOptions = ["--objects", objects]
        if place == .s3Bucket {
            let server = try S3TestServer.required()
            let name = S3TestServer.uniqueBucketName("multi-node")
            environment["AWS_ACCESS_KEY_ID"] = server.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = server.secretAccessKey
            objectsOptions = [
                "--objects", "s3://\(name)/cluster", "--s3-endpoint", server.endpoint, "--s3-region", server.region,
                "--s3-path-style", "--s3-create-bucket",
            ]
        }
        func sql(_ query: String) throws -> String { try postgres.psql(database: database, query) }
        func cli(_ arguments: [String], on data: String) throws -> ChildProcess.Output {
            try ChildProcess.run(executable, arguments + ["--data", data], environment: environment, timeout: .seconds(180))
        }
        let url = postgres.settings(database: database).url
        let initArguments = [
            "init", "--database", url, "--key-provider", "transit", "--transit-url", bao.url,
        ] + objectsOptions
        let made = try cli(initArguments, on: first)
        #expect(made.status == 0, "\(made.stderr)")
        // The second machine: the first's root key, then the same init.
        #expect(mkdir(second, 0o700) == 0)
        try FileManager.default.copyItem(atPath: first + "/root.key", toPath: second + "/root.key")
        let joined = try cli(initArguments, on: second)
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(!FileManager.default.fileExists(atPath: first + "/keys.sqlite"), "the keys are in the database")
        #expect(!FileManager.default.fileExists(atPath: second + "/keys.sqlite"))
        let added = try cli(["tenant", "add", "acme", "--consent", "not-required", "--json"], on: first)
        let token = try #require(try added.json()["token"] as? String, "\(added.stderr)")
        let speech = try Self.speechFrames()

        let sweeper = try ChildProcess(executable, ["sweep", "--interval", "1s", "--data", first], environment: environment)
        defer { if sweeper.isRunning { sweeper.send(SIGKILL) } }
        let a = try ServeProcess(data: first, environment: environment)
        defer { a.terminate() }
        let b = try ServeProcess(data: second, environment: environment)
        defer { b.terminate() }

        // Four calls, two on each server, recorded whole.
        for (index, port) in [a.port, b.port, a.port, b.port].enumerated() {
            _ = try Self.call("CA-\(index)", port: port, token: token, speech: speech, finish: true)
        }
        #expect(try sql("SELECT count(*) FROM recordings WHERE state = 'complete'") == "4")
        #expect(try sql("SELECT count(DISTINCT node) FROM recordings") == "2", "both servers recorded")

        // A fifth call on A, cut by kill -9 once a second of it is durable; B recovers it.
        let cut = try Self.call("CA-cut", port: a.port, token: token, speech: speech, finish: false)
        let durable = try poll(timeout: .seconds(30), interval: .milliseconds(100)) {
            try sql("SELECT count(*) FROM recordings WHERE state = 'recording' AND duration_ms >= 1000") == "1"
        }
        #expect(durable, "the cut call's first second is durable")
        try a.kill()
        _ = cut
        let recovered = try poll(timeout: .seconds(40), interval: .milliseconds(200)) {
            try sql("SELECT count(*) FROM recordings WHERE state = 'interrupted' AND duration_ms >= 1000") == "1"
        }
        #expect(recovered, "the killed server's recording was recovered by the other")
        // The killed machine comes back (a new node): with a bucket, its start-up pass uploads what the kill
        // left in its spool, the cut recording, which no other machine can reach before.
        let aAgain = try ServeProcess(data: first, environment: environment)
        defer { aAgain.terminate() }
        #expect(try sql("SELECT count(*) FROM jobs") == "5", "one job per call, the recovered one's included")

        // One worker starts; once it holds a job it is paused past its 3 s lease.
        func worker(on data: String) throws -> ChildProcess {
            try ChildProcess(
                executable,
                ["transcribe", "--pending", "--wait", "--engine", "pocketsphinx", "--lease", "3", "--format", "json",
                 "--data", data],
                environment: environment)
        }
        let paused = try worker(on: first)
        defer { if paused.isRunning { paused.send(SIGKILL) } }
        var stolen: String?
        let deadline = ContinuousClock.now + .seconds(60)
        while stolen == nil && ContinuousClock.now < deadline {
            let held = try sql("SELECT id FROM jobs WHERE state = 'running' AND lease_owner LIKE '\(paused.processIdentifier)-%'")
            guard !held.isEmpty else { Thread.sleep(forTimeInterval: 0.02); continue }
            paused.send(SIGSTOP)
            // Still its job once stopped (it may have finished between the look and the signal)?
            let still = try sql("SELECT id FROM jobs WHERE id = '\(held)' AND state = 'running' AND lease_owner LIKE '\(paused.processIdentifier)-%'")
            if still == held { stolen = held } else { paused.send(SIGCONT) }
        }
        let job = try #require(stolen, "the first worker was caught holding a job")
        let others = try [worker(on: second), worker(on: second)]
        defer { for other in others where other.isRunning { other.send(SIGKILL) } }
        let allDone = try poll(timeout: .seconds(180), interval: .milliseconds(250)) {
            try sql("SELECT count(*) FROM jobs WHERE state = 'done'") == "5"
        }
        let states = try sql("SELECT state, count(*) FROM jobs GROUP BY state")
        #expect(allDone, "every job done: \(states)")
        #expect(try sql("SELECT attempts FROM jobs WHERE id = '\(job)'") == "2", "the paused worker's job was taken over")

        // The paused worker resumes: its outcome is refused, and nothing is transcribed twice.
        paused.send(SIGCONT)
        let refused = try poll(timeout: .seconds(240), interval: .milliseconds(100)) { () throws -> Bool in paused.stderr.contains("lease lost") }
        #expect(refused, "the late worker was told it lost the job: \(paused.stderr.suffix(400))")
        for process in [paused] + others {
            let output = try process.stop(SIGTERM, timeout: .seconds(180))
            #expect(output.status == 0, "\(process.command): \(output.stderr.suffix(400))")
        }
        #expect(try sql("SELECT count(*) FROM transcripts") == "5")
        #expect(try sql("SELECT count(*) FROM (SELECT call_id FROM transcripts GROUP BY call_id HAVING count(*) > 1) t") == "0")
        #expect(try sql("SELECT count(*) FROM calls") == "5")

        #expect(try b.stop() == 0)
        #expect(try aAgain.stop() == 0)
        if place == .s3Bucket {
            // Every recording and transcript stored in the bucket (verify below reads them there), none left
            // in either machine's spool.
            #expect(try sql("SELECT count(*) FROM recordings WHERE storage = 'stored'") == "5")
            #expect(try sql("SELECT count(*) FROM transcripts WHERE storage = 'stored'") == "5")
            for data in [first, second] {
                let left = (FileManager.default.enumerator(atPath: data)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".cvr") }
                #expect(left.isEmpty, "spool copies left in \(data): \(left)")
            }
        }
        let swept = try sweeper.stop(SIGTERM, timeout: .seconds(180))
        #expect(swept.status == 0, "the sweeper stopped cleanly: \(swept.stderr.suffix(400))")
        #expect(try cli(["audit", "verify"], on: second).status == 0)
        // Every sealed file authenticates; the killed server's ends short of its last segment, as a cut does.
        let verified = try cli(["verify", "--all", "--json"], on: second)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])
        let statuses = ((report["recordings"] as? [[String: Any]]) ?? []).compactMap { $0["status"] as? String }
        #expect(statuses.sorted() == ["ok", "ok", "ok", "ok", "truncated"], "\(statuses)")
        if place == .sharedDirectory {
            let sealed = (FileManager.default.enumerator(atPath: objects)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".cvr") }
            #expect(sealed.count >= 10, "5 recordings and 5 transcripts sealed in the objects directory: \(sealed.count)")
        }
    }
}
