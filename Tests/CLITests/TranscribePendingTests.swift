import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import CallVaultTranscribe
import Foundation
import Logging
import Testing

/// `callvault transcribe --pending` as separate processes racing on one data directory.
@Suite(.timeLimit(.minutes(15))) struct TranscribePendingTests {
    static let samples = Repository.samples

    private func recordCalls(_ count: Int, in data: String) throws -> [String] {
        try RecordedCalls.record(count, in: data)
    }

    @Test func racingProcessesTranscribeEveryCallExactlyOnce() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-pending-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let data = temp + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let calls = try recordCalls(8, in: data)

        // Three processes with two workers each, started together on the same queue.
        let arguments = ["transcribe", "--pending", "--engine", "pocketsphinx", "--workers", "2", "--format", "json"]
        let results = LockedResults()
        let group = DispatchGroup()
        for _ in 0..<3 {
            group.enter()
            Thread {
                defer { group.leave() }
                results.append(Result { try cli.run(arguments) })
            }.start()
        }
        group.wait()
        let runs = try results.all.map { try $0.get() }
        #expect(runs.allSatisfy { $0.status == 0 }, "\(runs.map(\.stderr))")
        let done = try runs.map { try #require($0.json()["done"] as? Int) }.reduce(0, +)
        #expect(done == 8, "every job done once across the processes: \(runs.map(\.stdout))")

        let catalog = try Catalog(directory: data)
        #expect(try catalog.jobs(state: .done).count == 8)
        let transcripts = try catalog.transcripts(inCalls: calls)
        #expect(transcripts.count == 8 && Set(transcripts.map(\.callId)) == Set(calls), "one transcript per call")

        // Nothing left: a fourth run finds no work and says so.
        let again = try cli.run(arguments)
        let againDone = try again.json()["done"] as? Int
        #expect(again.status == 0 && againDone == 0)

        let show = try cli.run(["transcripts", "show", "--call", "CA-race-3"])
        #expect(show.status == 0, "\(show.stderr)")
        let list = try cli.run(["transcripts", "list", "--json"])
        let listed = try list.json()["transcripts"] as? [Any]
        #expect(listed?.count == 8)
        let unknown = try cli.run(["transcripts", "show", "--call", "CA-none"])
        #expect(unknown.status == 1 && unknown.stderr.contains("has no readable transcript"))
    }
}

extension TranscribePendingTests {
    @Test func aWaitingWorkerTakesJobsQueuedLaterAndStopsCleanlyOnSIGTERM() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-wait-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let data = temp + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        _ = try recordCalls(1, in: data)
        let worker = try ChildProcess(
            executable, ["transcribe", "--pending", "--wait", "--engine", "pocketsphinx", "--format", "json"],
            environment: ["CALLVAULT_DATA": data])
        defer { worker.send(SIGKILL) }
        let catalog = try Catalog(directory: data)
        #expect(try poll(timeout: .seconds(120), interval: .milliseconds(200)) { try catalog.jobs(state: .done).count == 1 }, "the first job")
        // Queued while the worker waits: taken without a new run.
        _ = try RecordedCalls.record(1, in: data, tenant: "later")
        #expect(try poll(timeout: .seconds(120), interval: .milliseconds(200)) { try catalog.jobs(state: .done).count == 2 }, "the job queued later")
        #expect(worker.isRunning, "--wait keeps running while there is no work")
        worker.send(SIGTERM)
        let ended = try worker.waitForExit(timeout: .seconds(60))
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(try ended.json()["done"] as? Int == 2, "\(ended.stdout)")
        let refused = try cli.run(["transcribe", Self.samples + "/answer.ulaw.wav", "--wait"])
        #expect(refused.status == 2 && refused.stderr.contains("--wait goes with --pending"))
    }

    @Test func anUnreachableHTTPEngineFailsTheJobWithTheReasonAndLosesNothing() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-pending-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let calls = try recordCalls(1, in: temp + "/data")
        // Port 9 (discard) on loopback: nothing listens, every connection is refused.
        let run = try cli.run([
            "transcribe", "--pending", "--engine", "http", "--endpoint", "http://127.0.0.1:9", "--format", "json",
        ])
        #expect(run.status == 0, "a drained queue exits 0 even with failures: \(run.stderr)")
        #expect(try run.json()["failed"] as? Int == 1)
        let job = try #require(try Catalog(directory: temp + "/data").jobs().first)
        #expect(job.callId == calls[0] && job.state == .failed && job.attempts == 1)
        #expect(job.lastError?.isEmpty == false && job.runAfter > Date(), "kept for a retry after its backoff")
    }

    @Test func aCommandEngineTranscribesAFile() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-command-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let script = temp + "/engine.sh"
        // A stand-in engine: checks it got a WAV, answers in plain text.
        try "#!/bin/sh\n[ \"$(head -c 4 \"$1\")\" = RIFF ] || exit 7\necho 'yes that is fine'\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp)
        let run = try cli.run([
            "transcribe", Self.samples + "/answer.ulaw.wav", "--engine", "command", "--command", "\(script) {input}",
        ])
        #expect(run.status == 0 && run.stdout.contains("yes that is fine"), "\(run.stderr)")
        #expect(run.stderr.contains("engine: command"))
        let bad = try cli.run(["transcribe", Self.samples + "/answer.ulaw.wav", "--engine", "command"])
        #expect(bad.status == 2 && bad.stderr.contains("--command"))
    }
}

/// Results gathered from several threads.
final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<CatalogCLIProcess.Result, any Error>] = []

    func append(_ result: Result<CatalogCLIProcess.Result, any Error>) {
        lock.lock()
        results.append(result)
        lock.unlock()
    }

    var all: [Result<CatalogCLIProcess.Result, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results
    }
}

extension TranscribePendingTests {
    /// The installed Whisper model (`WhisperInstallation.locate`, without hashing it); nil when absent.
    static var installedWhisperModel: String? { (try? WhisperInstallation.locate())?.model }

    @Test func aTenantsModelIsForWhisperOnlyAndARunsModelOverridesIt() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-pending-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let data = temp + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let calls = try recordCalls(2, in: data)
        // The tenant points at a model that is not there (yet): set through the catalog, which checks
        // the path's form only, as if the directory was removed after `tenant set` checked it.
        let catalog = try Catalog(directory: data)
        let tenant = try #require(try catalog.tenants().first)
        var policy = tenant.policy
        policy.transcriptModel = temp + "/model-not-copied"
        try catalog.updatePolicy(ofTenant: tenant.id, to: policy)

        // pocketsphinx has no models to choose: it transcribes the tenant's call as always.
        let sphinx = try cli.run(["transcribe", "--pending", "--engine", "pocketsphinx", "--limit", "1", "--format", "json"])
        #expect(try sphinx.status == 0 && sphinx.json()["done"] as? Int == 1, "\(sphinx.stderr)")

        guard let base = Self.installedWhisperModel else { return }  // the Whisper half needs it installed
        let whisper = try cli.run(["transcribe", "--pending", "--engine", "whisper", "--format", "json"])
        #expect(try whisper.status == 0 && whisper.json()["failed"] as? Int == 1, "\(whisper.stderr)")
        #expect(
            whisper.stderr.contains("failed: tenant \(tenant.id)'s transcript model") && whisper.stderr.contains("model-not-copied"),
            "\(whisper.stderr)")
        let job = try #require(try catalog.jobs().first { $0.state == .failed })
        #expect(calls.contains(job.callId))

        // A run's --model is used for every tenant, as --language is.
        #expect(try cli.run(["jobs", "retry", job.id]).status == 0)
        let fixed = try cli.run(["transcribe", "--pending", "--engine", "whisper", "--model", base, "--format", "json"])
        #expect(try fixed.status == 0 && fixed.json()["done"] as? Int == 1, "\(fixed.stderr)")
        #expect(fixed.stderr.contains("for every tenant"))
        #expect(try catalog.jobs(state: .done).count == 2)
    }
}
