import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault subject export` as a child process against a real data directory.
@Suite(.timeLimit(.minutes(15))) struct SubjectExportCommandTests {
    let number = "+44 20 7946 0000"

    /// Whether `text` holds the number in any usual spelling. (Not a 4-digit fragment: random hex ids
    /// and hashes contain one such fragment now and then, which made this check flaky.)
    static func mentionsNumber(_ text: String) -> Bool {
        ["+44 20 7946 0000", "+442079460000", "442079460000", "2079460000", "020 7946 0000", "7946 0000"]
            .contains { text.contains($0) }
    }

    /// An initialised directory with one tenant and one 1-second call of `number` (caller track only).
    private func makeSetup() throws -> (cli: CatalogCLIProcess, root: String, tenantID: String) {
        let root = try TemporaryDirectory.make("subject-cli")
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: root + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["tenant", "add", "acme", "--consent", "not-required", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)

        let directory = DataDirectory(path: root + "/data")
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        try keyStore.ensureTenant(tenantID)
        let catalog = try Catalog(path: directory.catalogPath)
        let call = try catalog.registerCall(
            tenantID: tenantID, externalID: "CA-subject", callerNumber: number,
            callerKeys: keyStore.callerKeys(tenantID: tenantID))
        let recorder = CallRecorder(
            callID: call.id, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16),
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        for index in 0..<50 {
            let frame = ring.next(timestampMs: Int64(index) * 20)
            for i in 0..<160 { frame.samples[i] = Int16(truncatingIfNeeded: (index * 160 + i) * 37) }
            try recorder.receive(frame, track: .caller)
        }
        try recorder.finish(atMs: 1000)
        return (cli, root, tenantID)
    }

    @Test func aRestrictedRecordingIsLeftOutOrIncludedByTheExportersAuditedOverride() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let catalog = try Catalog(path: setup.root + "/data/catalog.sqlite")
        let call = try #require(try catalog.calls(externalID: "CA-subject").first)
        let recording = try #require(try catalog.recordings(inCalls: [call.id]).first)
        #expect(try setup.cli.run(["recordings", "restrict", recording.id, "--reason", "subject objects"]).status == 0)

        let base = ["subject", "export", "--tenant", setup.tenantID, "--phone", number, "--json"]
        let plain = try setup.cli.run(base + ["--out", setup.root + "/a.zip"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(try plain.json()["recordingsRestricted"] as? Int == 1 && plain.json()["recordingsIncluded"] as? Int == 0)
        #expect(try !catalog.auditLog.entries().contains { $0.action == .recordingDecrypted })

        let included = try setup.cli.run(
            base + ["--out", setup.root + "/b.zip", "--include-restricted", "--override-reason", "court order 12"])
        #expect(included.status == 0, "\(included.stderr)")
        #expect(try included.json()["restrictionsOverridden"] as? Int == 1)
        let entries = try catalog.auditLog.entries()
        let override = try #require(entries.first { $0.action == .restrictionOverridden })
        let decrypted = try #require(entries.first { $0.action == .recordingDecrypted })
        #expect(override.subjectId == recording.id && override.details.contains("court order 12"))
        #expect(override.seq + 1 == decrypted.seq, "audited in the decryption's transaction, first")
    }

    @Test func exportsRefusesToOverwriteAndRejectsUnknownNumbers() throws {
        let setup = try makeSetup()
        defer { try? FileManager.default.removeItem(atPath: setup.root) }
        let out = setup.root + "/subject.zip"

        let exported = try setup.cli.run(
            ["subject", "export", "--tenant", setup.tenantID, "--phone", number, "--out", out, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let receipt = try exported.json()
        #expect(receipt["recordingsIncluded"] as? Int == 1)
        #expect((receipt["exportId"] as? String)?.hasPrefix("EXPORT-") == true)
        #expect(!Self.mentionsNumber(exported.stdout) && !Self.mentionsNumber(exported.stderr))
        let unzip = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/unzip"), ["-tq", out], timeout: .seconds(60))
        #expect(unzip.status == 0, "\(unzip.stdout)")

        let again = try setup.cli.run(["subject", "export", "--tenant", setup.tenantID, "--phone", number, "--out", out])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("callvault: error: \(out) exists") && again.stderr.contains("--force"))
        let forced = try setup.cli.run(
            ["subject", "export", "--tenant", setup.tenantID, "--phone", number, "--out", out, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 recording(s)"))

        let missing = setup.root + "/missing.zip"
        let unknown = try setup.cli.run(
            ["subject", "export", "--tenant", setup.tenantID, "--phone", "+1 202 555 0199", "--out", missing])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no call from the caller whose number was given"))
        #expect(!unknown.stderr.contains("555 0199") && !unknown.stderr.contains("2025550199"))
        #expect(!FileManager.default.fileExists(atPath: missing))

        let audit = try setup.cli.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains("subject.exported"))
        #expect(!Self.mentionsNumber(audit.stdout))
    }
}
