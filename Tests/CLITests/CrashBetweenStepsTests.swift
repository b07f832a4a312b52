import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import CallVaultTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` between two steps of a state change (failpoints, `CALLVAULT_FAILPOINTS`): between a
/// recording's `last` segment being sealed and its catalog row being updated, and between recovery
/// reading a recording back and closing it. After restart every finished recording has its job.
@Suite("Crash between two steps", .timeLimit(.minutes(15)))
struct CrashBetweenStepsTests {
    /// Runs `callvault ARGS` (at most 60 s) with `CALLVAULT_FAILPOINTS` armed.
    private static func run(_ arguments: [String], data: String, failpoints: String) throws -> ChildProcess.Output {
        let executable = try #require(Repository.callvault, "the callvault binary was not built")
        return try ChildProcess.run(
            executable, arguments, environment: ["CALLVAULT_DATA": data, "CALLVAULT_FAILPOINTS": failpoints],
            timeout: .seconds(60))
    }

    /// Starts `callvault serve` on a port the OS picks, waits until `done` holds (polled against a
    /// deadline), then stops it with SIGTERM.
    private static func serveUntil(data: String, _ done: () throws -> Bool) throws {
        let executable = try #require(Repository.callvault, "the callvault binary was not built")
        let serve = try ChildProcess(executable, ["serve", "--http", "127.0.0.1:0"], environment: ["CALLVAULT_DATA": data])
        try serve.waitForStdout("the listening line", timeout: .seconds(30)) { lines in
            lines.contains { $0.hasPrefix("listening ") }
        }
        #expect(try poll(timeout: .seconds(30), until: done), "serve did not finish recovery within 30 s")
        let output = try serve.stop()
        #expect(output.status == 0 && !output.signalled, "\(output.stderr.suffix(500))")
    }

    /// `init` and `tenant add acme` in `root/data`.
    private static func initialised(_ root: TemporaryDirectory) throws -> (String, CatalogCLIProcess, String) {
        let data = root.appending("data")
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)
        return (data, cli, tenantID)
    }

    @Test func aRecordingKilledAfterSealingAndRecoveryKilledMidwayEndCompleteWithTheirJob() throws {
        let root = try TemporaryDirectory("failpoint-test")
        defer { root.remove() }
        let (data, cli, tenantID) = try Self.initialised(root)

        // 1. Killed after the file was sealed to its `last` segment, before the catalog heard of it.
        let recorded = try Self.run(
            ["_record-sample", "--tenant", tenantID, "--seconds", "1", "--segment-ms", "200", "--flush-ms", "100"],
            data: data, failpoints: Failpoint.recordingSealed.rawValue)
        #expect(recorded.signalled && recorded.status == SIGKILL, "the failpoint killed it: \(recorded.stderr)")
        let directory = DataDirectory(path: data)
        let catalog = try Catalog(path: directory.catalogPath)
        let recording = try #require(try catalog.recordingSummaries().first)
        #expect(recording.state == .recording)
        #expect(try catalog.jobs().isEmpty)

        // 2. Recovery killed after reading the recording back, before closing it: nothing half-done.
        let interrupted = try Self.run(
            ["serve", "--http", "127.0.0.1:0"], data: data, failpoints: Failpoint.recoveryScanned.rawValue)
        #expect(interrupted.signalled && interrupted.status == SIGKILL, "\(interrupted.stderr)")
        #expect(try catalog.recording(id: recording.id).state == .recording)
        #expect(try catalog.jobs().isEmpty)

        // 3. The next start recovers it: complete (its file ends with `last`), audited, and queued.
        try Self.serveUntil(data: data) { try catalog.recording(id: recording.id).state != .recording }
        let row = try catalog.recording(id: recording.id)
        // (`_record-sample` writes raw codec segments, which serve's recovery does not time: bytes, not ms.)
        #expect(row.state == .complete && row.bytes > 16_000, "\(row.state) \(row.bytes) bytes")
        let jobs = try catalog.jobs()
        #expect(jobs.count == 1 && jobs.first?.callId == row.callId)
        let recovered = try catalog.auditLog.entries(tenantID: tenantID).filter { $0.action == .recordingRecovered }
        #expect(recovered.count == 1 && recovered.first?.details.contains(#""state":"complete""#) == true)
        #expect(try catalog.auditLog.verify().isIntact)
        #expect(try cli.run(["verify", "--all"]).status == 0)
    }

    @Test func aFinishedRecordingWithoutAJobFromAnOlderBuildGetsItsJobAtStartUp() throws {
        let root = try TemporaryDirectory("repair-test")
        defer { root.remove() }
        let (data, _, tenantID) = try Self.initialised(root)
        let catalog = try Catalog(path: DataDirectory(path: data).catalogPath)
        // What an older build left when it crashed between its two transactions.
        var finished: [String] = []
        for (index, state) in [RecordingState.complete, .interrupted, .interrupted].enumerated() {
            let call = try catalog.registerCall(tenantID: tenantID, externalID: "OLD-\(index)")
            let recording = try catalog.createRecording(
                callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "recordings/x/old-\(index).cvr")
            // The third was interrupted before any audio: nothing to transcribe.
            try catalog.finishRecording(id: recording.id, state: state, durationMs: index == 2 ? 0 : 1000, bytes: 100)
            if index < 2 { finished.append(call.id) }
        }
        try Self.serveUntil(data: data) { try catalog.jobs().count >= 2 }
        #expect(Set(try catalog.jobs().map(\.callId)) == Set(finished))
        let repaired = try catalog.auditLog.entries(tenantID: tenantID).filter { $0.action == .jobRepaired }
        #expect(Set(repaired.compactMap(\.subjectId)) == Set(finished))
        // Idempotent: a second start (recovery runs before it listens) queues nothing more.
        try Self.serveUntil(data: data) { true }
        #expect(try catalog.jobs().count == 2)
    }
}
