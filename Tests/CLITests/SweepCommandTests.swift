import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault sweep` and `callvault hold` run as a child process against a real data directory.
@Suite(.timeLimit(.minutes(15))) struct SweepCommandTests {
    /// An initialised data directory with one tenant (voice 1 day) and one recording made 2 days ago.
    private struct Setup {
        let cli: CatalogCLIProcess
        let recordingID: String
        let file: String
        let root: String
    }

    private func makeSetup() throws -> Setup {
        let root = try TemporaryDirectory.make("sweep-test")
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: root + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["tenant", "add", "acme", "--voice-days", "1", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)

        let directory = DataDirectory(path: root + "/data")
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        try keyStore.ensureTenant(tenantID)
        let catalog = try Catalog(path: directory.catalogPath)
        let createdAt = Date().addingTimeInterval(-2 * 86_400)
        let call = try catalog.registerCall(tenantID: tenantID, externalID: "CA-sweep", startedAt: createdAt)
        let id = UUID().uuidString.lowercased()
        let relative = "recordings/\(id).cvr"
        try FileManager.default.createDirectory(atPath: directory.path + "/recordings", withIntermediateDirectories: true)
        let recording = try catalog.createRecording(
            id: id, callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: relative,
            createdAt: createdAt)
        let expiresOn = CalendarDay(secondsSince1970: Int64(recording.expiresAt.timeIntervalSince1970))
        let key = try keyStore.newDataKey(tenantID: tenantID, ownerID: id, kind: .voice, expiresOn: expiresOn)
        let writer = try SealedFileWriter(
            path: directory.path + "/" + relative, dataKey: key.key,
            metadata: SealedFileMetadata(
                kind: .voice, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .pcm16,
                sampleRate: 8000, createdAtMs: Int64(createdAt.timeIntervalSince1970 * 1000)))
        let segment = [UInt8](repeating: 7, count: 16_000)
        try segment.withUnsafeBytes { try writer.append($0, last: true) }
        try writer.close()
        return Setup(cli: cli, recordingID: id, file: directory.path + "/" + relative, root: root)
    }

    @Test func dryRunThenSweepShredsTheExpiredRecording() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }

        let dry = try setup.cli.run(["sweep", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try dry.json()["recordingsShredded"] as? [String] == [setup.recordingID])
        #expect(FileManager.default.fileExists(atPath: setup.file))

        let swept = try setup.cli.run(["sweep", "--once", "--json"])
        #expect(swept.status == 0, "\(swept.stderr)")
        let report = try swept.json()
        #expect(report["recordingsShredded"] as? [String] == [setup.recordingID])
        #expect(report["filesDeleted"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: setup.file))

        let human = try setup.cli.run(["sweep", "--once"])
        #expect(human.stdout.hasPrefix("sweep: shredded 0 recording(s)"))
        let audit = try setup.cli.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains("recording.shredded"))
    }

    @Test func holdKeepsARecordingPastExpiry() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let held = try setup.cli.run(["hold", "set", setup.recordingID, "--reason", "litigation 42"])
        #expect(held.status == 0, "\(held.stderr)")
        let swept = try setup.cli.run(["sweep", "--once", "--json"])
        #expect(try swept.json()["recordingsShredded"] as? [String] == [])
        #expect(FileManager.default.fileExists(atPath: setup.file))

        let cleared = try setup.cli.run(["hold", "clear", setup.recordingID])
        #expect(cleared.status == 0 && cleared.stdout.contains("key was destroyed"))
        let after = try setup.cli.run(["sweep", "--once", "--json"])
        #expect(try after.json()["recordingsShredded"] as? [String] == [setup.recordingID])
    }

    @Test func badInputGetsOneLineErrors() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let unknown = try setup.cli.run(["hold", "set", "no-such-recording"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasPrefix("callvault: error: no recording with id no-such-recording"))
        let interval = try setup.cli.run(["sweep", "--interval", "5x"])
        #expect(interval.status == 2 && interval.stderr.contains("--interval '5x'"))
        let now = try setup.cli.run(["sweep", "--once", "--now", "yesterday"])
        #expect(now.status == 2 && now.stderr.contains("--now 'yesterday'"))
        let uninitialised = CatalogCLIProcess(executable: setup.cli.executable, dataDirectory: setup.root + "/none")
        let missing = try uninitialised.run(["sweep", "--once"])
        #expect(missing.status == 1 && missing.stderr.contains("callvault init"))
    }

    @Test func serviceModeStopsOnSIGTERMBetweenSweeps() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let metricsFile = setup.root + "/sweep.prom"
        let sweep = try ChildProcess(
            setup.cli.executable,
            ["sweep", "--interval", "1h", "--data", setup.cli.dataDirectory, "--metrics-file", metricsFile])
        defer { sweep.send(SIGKILL) }
        // The first sweep's line arrives at once; then the service sleeps until the signal.
        let line = try sweep.waitForLine("the first sweep's line") { $0.hasPrefix("sweep: ") }
        #expect(line.hasPrefix("sweep: shredded 1 recording(s)"))
        // The textfile collector's file was written before the line.
        let metrics = (try? String(contentsOfFile: metricsFile, encoding: .utf8)) ?? ""
        #expect(metrics.contains("callvault_sweep_recordings_shredded_total 1"), "\(metrics)")
        #expect(metrics.contains("callvault_sweep_runs_total 1") && metrics.contains("callvault_sweep_errors_total 0"))
        #expect(metrics.contains("callvault_sweep_bytes_freed_total") && !metrics.contains("callvault_sweep_bytes_freed_total 0"))
        // Between sweeps, SIGTERM stops it at once (the deadline only bounds a loaded machine).
        #expect(try sweep.stop(SIGTERM, timeout: .seconds(10)).status == 0)
    }

    @Test func subjectEraseByPhoneNumberPrintsACodeTheAuditLogKeeps() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let tenants = try setup.cli.run(["tenant", "list", "--json"])
        let tenantID = try #require((try tenants.json()["tenants"] as? [[String: Any]])?.first?["id"] as? String)
        // The setup's call has no caller number: erasing a number finds nothing and still gets a code.
        let none = try setup.cli.run(["subject", "erase", "--tenant", tenantID, "--phone", "+15550100", "--json"])
        #expect(none.status == 0, "\(none.stderr)")
        let code = try #require(try none.json()["confirmationCode"] as? String)
        let audit = try setup.cli.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains(code) && !audit.stdout.contains("5550100"))
        let unknown = try setup.cli.run(["subject", "erase", "--tenant", "nope", "--phone", "+15550100"])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("callvault: error: "))
        #expect(!unknown.stderr.contains("5550100"))
        let empty = try setup.cli.run(["subject", "erase", "--tenant", tenantID, "--phone", " "])
        #expect(empty.status == 2)
    }
}
