import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` between two steps of a state change (failpoints, `CALLVAULT_FAILPOINTS`): between a
/// recording's `last` segment being sealed and its catalog row being updated, and between recovery
/// reading a recording back and closing it. After restart every finished recording has its job.
@Suite("Crash between two steps", .timeLimit(.minutes(3)))
struct CrashBetweenStepsTests {
    /// Runs `callvault ARGS` with extra environment, output to files (no pipe to fill), at most 60 s.
    private static func run(
        _ arguments: [String], data: String, failpoints: String? = nil
    ) throws -> (reason: Process.TerminationReason, status: Int32) {
        let process = Process()
        let executable: URL = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CALLVAULT_DATA"] = data
        if let failpoints { environment["CALLVAULT_FAILPOINTS"] = failpoints }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus)
    }

    /// Starts `callvault serve` on a port the OS picks, waits until `done` holds (polled against a
    /// deadline), then stops it with SIGTERM.
    private static func serveUntil(data: String, _ done: () throws -> Bool) throws {
        let process = Process()
        let executable: URL = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        process.executableURL = executable
        process.arguments = ["serve", "--http", "127.0.0.1:0"]
        var environment = ProcessInfo.processInfo.environment
        environment["CALLVAULT_DATA"] = data
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while try !done(), Date() < deadline, process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try done(), "serve did not finish recovery within 30 s")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    @Test func aRecordingKilledAfterSealingAndRecoveryKilledMidwayEndCompleteWithTheirJob() throws {
        var template = Array("/tmp/callvault-failpoint-test-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)

        // 1. Killed after the file was sealed to its `last` segment, before the catalog heard of it.
        let recorded = try Self.run(
            ["_record-sample", "--tenant", tenantID, "--seconds", "1", "--segment-ms", "200", "--flush-ms", "100"],
            data: data, failpoints: Failpoint.recordingSealed.rawValue)
        #expect(recorded.reason == .uncaughtSignal && recorded.status == SIGKILL, "the failpoint killed it")
        let directory = DataDirectory(path: data)
        let catalog = try Catalog(path: directory.catalogPath)
        let recording = try #require(try catalog.recordingSummaries().first)
        #expect(recording.state == .recording)
        #expect(try catalog.jobs().isEmpty)

        // 2. Recovery killed after reading the recording back, before closing it: nothing half-done.
        let interrupted = try Self.run(
            ["serve", "--http", "127.0.0.1:0"], data: data, failpoints: Failpoint.recoveryScanned.rawValue)
        #expect(interrupted.reason == .uncaughtSignal && interrupted.status == SIGKILL)
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
        var template = Array("/tmp/callvault-repair-test-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)
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
        // Idempotent: a second start queues nothing more.
        try Self.serveUntil(data: data) { true }
        #expect(try catalog.jobs().count == 2)
    }
}
