import CallVaultModel
import CallVaultObjects
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// A data directory whose sealed files live in an S3 bucket (`init --objects s3://...`), run as child
/// processes against moto's S3 server with signatures checked: calls recorded through `serve` are spooled,
/// uploaded and verified, then read (verify, export, transcription), tampered with, and shredded, all
/// from the bucket; an unreachable store loses nothing and the spool drains once it answers.
@Suite(
    "Sealed files in an S3 bucket (moto)",
    .enabled(if: S3TestServer.canRunOrMustFail, Comment(rawValue: S3TestServer.skipReason)),
    .timeLimit(.minutes(15)))
struct ObjectStorageCLITests {
    /// A data directory set up on a fresh bucket of the test server, and how to run commands on it.
    struct Site {
        let executable: URL
        let server: S3TestServer
        let root: TemporaryDirectory
        let data: String
        let bucket: String
        let prefix = "site-a/"
        var environment: [String: String] {
            [
                "CALLVAULT_DATA": data, "AWS_ACCESS_KEY_ID": server.accessKeyID,
                "AWS_SECRET_ACCESS_KEY": server.secretAccessKey,
            ]
        }

        init(_ label: String) throws {
            executable = try #require(CatalogCLIProcess.executable(), "build the callvault executable first")
            server = try S3TestServer.required()
            root = try TemporaryDirectory(label)
            data = root.appending("data")
            bucket = S3TestServer.uniqueBucketName(label)
        }

        var initArguments: [String] {
            [
                "init", "--objects", "s3://\(bucket)/\(prefix)", "--s3-endpoint", server.endpoint, "--s3-region",
                server.region, "--s3-path-style", "--s3-create-bucket",
            ]
        }

        func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess.Output {
            try ChildProcess.run(
                executable, arguments, environment: environment.merging(extra) { $1 }, timeout: .seconds(240))
        }

        /// The bucket as the test sees it (under the site's prefix).
        func store() throws -> S3ObjectStore {
            try S3ObjectStore(
                .init(endpoint: server.endpoint, region: server.region, bucket: bucket, prefix: prefix, addressing: .path),
                credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey))
        }

        /// The `.cvr` files in the spool (the data directory's recordings/ and transcripts/).
        func spooled() -> [String] {
            ["recordings", "transcripts"].flatMap { folder in
                (FileManager.default.enumerator(atPath: data + "/" + folder)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".cvr") }
            }
        }

        /// Records one two-track call through `serve`, and returns its output once it stopped.
        func recordCall(_ callID: String, token: String, waitForUploads: Bool) throws -> ChildProcess.Output {
            let serve = try ChildProcess(
                executable, ["serve", "--http", "127.0.0.1:0", "--upload-interval-seconds", "0.5"],
                environment: environment)
            let listening = try serve.waitForLine("serve's `listening` line", timeout: .seconds(60)) {
                $0.hasPrefix("listening ")
            }
            let port = try #require(listening.split(separator: ":").last.map(String.init))
            let simulated = try ChildProcess.run(
                executable,
                [
                    "simulate", "--url", "ws://127.0.0.1:\(port)/v1/twilio", "--token", token,
                    "--file", Repository.sample("caller.flac"), "--bot-file", Repository.sample("bot.flac"),
                    "--consent-at", "1", "--call-prefix", callID,
                ],
                environment: environment, timeout: .seconds(120))
            #expect(simulated.status == 0, "\(simulated.stdout) \(simulated.stderr)")
            if waitForUploads {
                // The call ends when the stream does; its tracks are uploaded by the next pass.
                let deadline = ContinuousClock.now + .seconds(60)
                while !spooled().isEmpty && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.2) }
            }
            return try serve.stop(SIGTERM, timeout: .seconds(30))
        }
    }

    @Test func callsLandInTheBucketAndAreVerifiedExportedTranscribedAndShreddedFromIt() async throws {
        let site = try Site("s3-e2e")
        defer { site.root.remove() }

        // Wrong credentials: init refuses before writing anything, naming the bucket and the fix, and
        // shows no secret.
        let refused = try site.run(site.initArguments, environment: ["AWS_SECRET_ACCESS_KEY": "wrong-secret-value"])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("s3://\(site.bucket)/site-a/"), "\(refused.stderr)")
        #expect(refused.stderr.contains("AWS_ACCESS_KEY_ID"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("wrong-secret-value") && !refused.stderr.contains(site.server.accessKeyID))
        #expect(!FileManager.default.fileExists(atPath: site.data + "/objects.json"))

        let initialised = try site.run(site.initArguments + ["--json"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(try initialised.json()["objects"] as? String == "s3://\(site.bucket)/site-a/", "\(initialised.stdout)")
        let added = try site.run(["tenant", "add", "acme", "--consent-digit", "1", "--json"])
        let token = try #require(try added.json()["token"] as? String, "\(added.stdout) \(added.stderr)")

        let served = try site.recordCall("CA-s3", token: token, waitForUploads: true)
        #expect(served.status == 0, "\(served.stderr)")
        #expect(!served.stderr.contains(site.server.secretAccessKey) && !served.stderr.contains(site.server.accessKeyID))
        #expect(site.spooled().isEmpty, "spool copies left after upload: \(site.spooled())")
        let store = try site.store()
        defer { Task { await store.shutdown() } }
        let objects = try await store.list(prefix: "recordings/")
        #expect(objects.count == 2, "one object per track: \(objects.map(\.key))")
        #expect(objects.allSatisfy { $0.size > 100_000 }, "\(objects)")

        // serve anchored the audit chain head in the bucket: the log matches it.
        let anchored = try site.run(["audit", "verify", "--against-objects", "--json"])
        #expect(anchored.status == 0, "\(anchored.stdout) \(anchored.stderr)")
        let anchor = try #require(try anchored.json()["anchor"] as? [String: Any], "\(anchored.stdout)")
        #expect(anchor["status"] as? String == "matches", "\(anchored.stdout)")
        let seq = try #require(anchor["seq"] as? Int)
        // Anchors that remember another hash for that entry (as after a rewrite of the database's history).
        let forged = #"{"at":"2026-12-06T00:00:00Z","hash":"\#(String(repeating: "ab", count: 32))","seq":\#(seq)}"#
        let historyKey = "audit/heads/" + String(repeating: "0", count: 20 - String(seq).count) + "\(seq).json"
        let genuine = try await store.get("audit/head.json")
        _ = try await store.put("audit/head.json", bytes: Array(forged.utf8))
        _ = try await store.put(historyKey, bytes: Array(forged.utf8))
        let rewritten = try site.run(["audit", "verify", "--against-objects"])
        #expect(rewritten.status == 1, "\(rewritten.stdout) \(rewritten.stderr)")
        #expect(rewritten.stderr.contains("entry \(seq) has another hash"), "\(rewritten.stderr)")
        _ = try await store.put("audit/head.json", bytes: genuine)
        _ = try await store.put(historyKey, bytes: genuine)

        // Read from the bucket: verify streams each object with ranged GETs; export decodes it.
        let listed = try site.run(["recordings", "list", "--json"])
        let ids = try #require((try listed.json()["recordings"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
        #expect(ids.count == 2, "\(listed.stdout)")
        let verified = try site.run(["verify", "--json"] + ids)
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let results = try #require(try verified.json()["recordings"] as? [[String: Any]])
        #expect(results.allSatisfy { $0["status"] as? String == "ok" }, "\(verified.stdout)")
        #expect(
            results.allSatisfy { ($0["paths"] as? [String])?.first?.hasPrefix("recordings/") == true },
            "verify names the objects: \(verified.stdout)")
        let wav = site.root.appending("call.wav")
        let exported = try site.run(["calls", "export", "CA-s3-1", "--out", wav])
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        let size = (try? FileManager.default.attributesOfItem(atPath: wav)[.size] as? Int) ?? 0
        #expect(size > 1_000_000, "46 s of stereo audio, got \(size) bytes")

        // A worker transcribes from the bucket and its transcript goes there too.
        let transcribed = try site.run(["transcribe", "--pending"])
        #expect(transcribed.status == 0, "\(transcribed.stdout) \(transcribed.stderr)")
        #expect(try await store.list(prefix: "transcripts/").count == 1)
        #expect(site.spooled().isEmpty, "a transcript's spool copy was left: \(site.spooled())")
        let shown = try site.run(["transcripts", "show", "--call", "CA-s3-1"])
        #expect(shown.status == 0 && !shown.stdout.isEmpty, "\(shown.stdout) \(shown.stderr)")

        // A backup copy of one object, then a changed byte in the bucket: verify names the object.
        let first = try #require(objects.first)
        var bytes = try await store.get(first.key)
        let backup = site.root.appending("backup.cvr")
        #expect(FileManager.default.createFile(atPath: backup, contents: Data(bytes)))
        bytes[bytes.count / 2] ^= 0x01
        _ = try await store.put(first.key, bytes: bytes)
        let tampered = try site.run(["verify", "--json"] + ids)
        #expect(tampered.status == 1, "\(tampered.stdout)")
        let statuses = try #require(try tampered.json()["recordings"] as? [[String: Any]])
        #expect(statuses.filter { $0["status"] as? String == "tampered" }.count == 1, "\(tampered.stdout)")
        #expect(tampered.stdout.contains(first.key), "\(tampered.stdout)")

        // Shredded at expiry: keys first, then every object of the recordings; the backup copy is unreadable.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(91 * 86_400))
        let swept = try site.run(["sweep", "--once", "--now", later, "--json"])
        #expect(swept.status == 0, "\(swept.stdout) \(swept.stderr)")
        #expect((try swept.json()["recordingsShredded"] as? [String])?.count == 2, "\(swept.stdout)")
        #expect(try await store.list(prefix: "recordings/").isEmpty, "objects left after shredding")
        let again = try site.run(["calls", "export", "CA-s3-1", "--out", site.root.appending("again.wav")])
        #expect(again.status == 1 && again.stderr.contains("shredded"), "\(again.stderr)")
        let copy = try site.run(["verify", "--json", backup])
        let copyStatus = try #require(try copy.json()["recordings"] as? [[String: Any]])
        #expect(copyStatus.first?["status"] as? String == "shredded", "\(copy.stdout)")
    }

    @Test func whileTheStoreIsUnreachableCallsKeepRecordingAndTheSpoolDrainsWhenItAnswers() async throws {
        let site = try Site("s3-outage")
        defer { site.root.remove() }
        #expect(try site.run(site.initArguments).status == 0)
        let added = try site.run(["tenant", "add", "acme", "--consent-digit", "1", "--json"])
        let token = try #require(try added.json()["token"] as? String, "\(added.stdout) \(added.stderr)")

        // The store goes away (its endpoint now a closed port): calls record into the spool all the same.
        let settings = site.data + "/objects.json"
        let working = try String(contentsOfFile: settings, encoding: .utf8)
        let closed = "http://127.0.0.1:\(try UnusedPort().port)"
        func write(_ text: String) throws {
            try text.write(toFile: settings, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: settings)
        }
        try write(working.replacingOccurrences(of: site.server.endpoint, with: closed))
        let served = try site.recordCall("CA-out", token: token, waitForUploads: false)
        #expect(served.status == 0, "\(served.stderr)")
        #expect(site.spooled().count == 2, "both tracks kept in the spool: \(site.spooled())")
        let stalled = try site.run(["objects", "reconcile"])
        #expect(stalled.status == 1, "\(stalled.stdout) \(stalled.stderr)")
        #expect(stalled.stdout.contains("connection refused"), "\(stalled.stdout)")
        #expect(site.spooled().count == 2, "a failed upload deleted a spool copy")

        // The store is back: one reconcile uploads both, verified, and empties the spool.
        try write(working)
        let drained = try site.run(["objects", "reconcile", "--json"])
        #expect(drained.status == 0, "\(drained.stdout) \(drained.stderr)")
        #expect((try drained.json()["uploaded"] as? [String])?.count == 2, "\(drained.stdout)")
        #expect(site.spooled().isEmpty)
        let store = try site.store()
        defer { Task { await store.shutdown() } }
        #expect(try await store.list(prefix: "recordings/").count == 2)
        let exported = try site.run(["calls", "export", "CA-out-1", "--out", site.root.appending("call.wav")])
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        let nothing = try site.run(["objects", "reconcile", "--json"])
        #expect((try nothing.json()["uploaded"] as? [String])?.isEmpty == true, "\(nothing.stdout)")

        // The bucket against the catalog: all accounted for; then a stray object and a lost one are named.
        let clean = try site.run(["objects", "check", "--json"])
        #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
        #expect(try clean.json()["objects"] as? Int == 2, "\(clean.stdout)")
        let stored = try await store.list(prefix: "recordings/")
        let lost = try #require(stored.first)
        _ = try await store.put("recordings/stray/2026-12-06/0000-unknown.cvr", bytes: [1, 2, 3])
        try await store.delete(lost.key)
        let found = try site.run(["objects", "check", "--json"])
        #expect(found.status == 1, "\(found.stdout) \(found.stderr)")
        #expect(try found.json()["unknownObjects"] as? [String] == ["recordings/stray/2026-12-06/0000-unknown.cvr"], "\(found.stdout)")
        let missing = try #require(try found.json()["missingObjects"] as? [String])
        #expect(missing.count == 1 && missing.first?.hasSuffix(lost.key) == true, "\(found.stdout)")
    }

    @Test func aKillNineInTheMiddleOfAMultipartUploadIsFinishedByTheNextReconcile() async throws {
        let site = try Site("s3-kill")
        defer { site.root.remove() }
        #expect(try site.run(site.initArguments).status == 0)
        // A closed recording whose spool file is past the single-put limit (random bytes: the uploader moves
        // files, it does not read them).
        let catalog = try Catalog(path: site.data + "/catalog.sqlite")
        let tenant = try catalog.addTenant(name: "acme", policy: TenantPolicy()).tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA-kill")
        let path = "recordings/\(tenant.id)/2026-12-06/\(UUID().uuidString.lowercased()).cvr"
        let size = 18 * 1024 * 1024
        let recording = try catalog.createRecording(
            callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: path, storage: .spooled)
        try catalog.finishRecording(id: recording.id, state: .complete, durationMs: 1_200_000, bytes: Int64(size))
        let spool = site.data + "/" + path
        try FileManager.default.createDirectory(
            atPath: (spool as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var random = SeededRandom(seed: 18)
        let bytes = random.bytes(size)
        #expect(FileManager.default.createFile(atPath: spool, contents: Data(bytes)))

        // Killed (SIGKILL, as kill -9) once the first 8 MiB part is in the bucket.
        let killed = try site.run(["objects", "reconcile"], environment: ["CALLVAULT_FAILPOINTS": "upload.part-sent"])
        #expect(killed.status != 0, "the failpoint did not kill it: \(killed.stdout) \(killed.stderr)")
        let store = try site.store()
        defer { Task { await store.shutdown() } }
        #expect(try await store.listMultipartUploads(prefix: "recordings/").map(\.key) == [path], "no upload left open")
        #expect(try catalog.recording(id: recording.id).storage == .uploading)
        #expect(FileManager.default.fileExists(atPath: spool), "the spool copy went before the upload finished")

        // The next reconcile aborts the upload the kill left, uploads the whole file, and only then deletes it.
        let finished = try site.run(["objects", "reconcile", "--json"])
        #expect(finished.status == 0, "\(finished.stdout) \(finished.stderr)")
        #expect(try finished.json()["uploaded"] as? [String] == [recording.id], "\(finished.stdout)")
        #expect(try await store.listMultipartUploads(prefix: "recordings/").isEmpty)
        #expect(try await store.get(path) == bytes)
        #expect(try catalog.recording(id: recording.id).storage == .stored)
        #expect(!FileManager.default.fileExists(atPath: spool))
    }
}

