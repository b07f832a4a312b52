import CallVaultArchive
import CallVaultCrypto
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Guarantee 5 (crash-safe): `kill -9` a process mid-recording, run start-up recovery, and check
/// that everything older than the durability window is readable, verifies, and is queued.
@Suite(.timeLimit(.minutes(15))) struct RecorderCrashTests {
    @Test func killedRecordingIsRecoveredUpToTheDurabilityWindow() async throws {
        let root = try TemporaryDirectory.make("crash-test")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        let data = root + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["tenant", "add", "acme", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)

        let segmentMs = 500
        let flushMs = 500
        let recorder = try ChildProcess(
            executable,
            [
                "_record-sample", "--tenant", tenantID, "--seconds", "60", "--segment-ms", "\(segmentMs)",
                "--flush-ms", "\(flushMs)",
            ],
            environment: ["CALLVAULT_DATA": data])
        defer { recorder.send(SIGKILL) }

        // Let it record about 4 s (8 segments), then kill it without warning.
        try recorder.waitForStdout("8 segments appended", timeout: .seconds(30)) {
            $0.filter { $0.hasPrefix("appended") }.count >= 8
        }
        // Blocking on purpose: no suspension between the 8th segment and the kill (an async test resumes
        // only when a thread of the shared pool is free, which in a full run can be after the recording ended).
        usleep(200_000)  // land somewhere inside the next segment
        let killedAtMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let killed = try recorder.stop(SIGKILL)
        #expect(killed.signalled)
        #expect(killed.status == SIGKILL)

        let output = recorder.stdoutLines  // whole lines: a line cut by the kill does not count
        let opened = try #require(output.first, "the recorder printed nothing")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(opened.utf8)) as? [String: String])
        let recordingID = try #require(info["recordingId"])
        let appended = output.dropFirst().compactMap { line -> (index: Int, atMs: Int64)? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "appended", let i = Int(fields[1]), let t = Int64(fields[2]) else {
                return nil
            }
            return (i, t)
        }
        #expect(appended.count >= 8)
        // Appended at least one flush interval (plus 500 ms of scheduling slack) before the kill:
        // these must have been synced, so they must survive.
        let mustSurvive = appended.filter { $0.atMs <= killedAtMs - Int64(flushMs) - 500 }.count
        #expect(mustSurvive >= 6)

        let directory = DataDirectory(path: data)
        let catalog = try Catalog(path: directory.catalogPath)
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        let beforeRecovery = try catalog.recording(id: recordingID)
        #expect(beforeRecovery.state == .recording)

        let results = try await RecordingRecovery(catalog: catalog, keyStore: keyStore, dataDirectory: directory).run()
        let result = try #require(results.first { $0.recordingID == recordingID })
        #expect(result.outcome == .readable)
        #expect(result.segmentCount >= mustSurvive)
        #expect(result.segmentCount <= appended.count + 1)  // at most the one being written when killed
        #expect(result.durationMs == Int64(result.segmentCount * segmentMs))
        // Progress the flush group reported to the catalog was durable: never more than what is readable.
        #expect(beforeRecovery.durationMs > 0)
        #expect(beforeRecovery.durationMs <= result.durationMs)

        let row = try catalog.recording(id: recordingID)
        #expect(row.state == .interrupted)
        #expect(row.durationMs == result.durationMs)
        let job = try #require(try catalog.jobs(state: .queued).first { $0.callId == row.callId })
        #expect(job.id == result.jobID)
        let audit = try catalog.auditLog.entries(tenantID: tenantID)
        #expect(audit.contains { $0.action == .recordingRecovered && $0.subjectId == recordingID })
        #expect(try catalog.auditLog.verify().isIntact)

        // Every surviving segment authenticates; the file is truncated (a crash), never tampered.
        let key = try keyStore.dataKey(ownerID: recordingID, tenantID: tenantID)
        let path = RecordingFiles.resolve(row.path, in: directory)
        let verified = SealedRecordingVerifier.verify(
            partPaths: RecordingFiles.existingParts(firstPart: path),
            dataKey: key,
            expectedTenantID: tenantID,
            expectedRecordingID: recordingID
        )
        #expect(verified.status == .truncated)
        #expect(verified.segmentCount == result.segmentCount)

        // And the audio is the tone that was recorded, sample for sample.
        let exported = try await RecordingExporter(catalog: catalog, keyStore: keyStore, dataDirectory: directory)
            .export(recordingID: recordingID, tenantID: tenantID, actor: "test")
        let expected = (0..<exported.samples.count).map { i in
            Int16(12_000 * sin(2 * Double.pi * 1000 * Double(i) / 8000))
        }
        #expect(exported.samples.count == result.segmentCount * 8000 * segmentMs / 1000)
        #expect(exported.samples == expected)
    }
}
