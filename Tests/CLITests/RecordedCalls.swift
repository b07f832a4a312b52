import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// Calls recorded into an initialised data directory through the real recorder, for CLI tests.
enum RecordedCalls {
    /// Records `count` one-track calls of the sample answer through the real recorder; returns their ids.
    static func record(_ count: Int, in data: String, tenant name: String = "race") throws -> [String] {
        let directory = DataDirectory(path: data)
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        let catalog = try Catalog(directory: data)
        let tenant = try catalog.addTenant(name: name, policy: TenantPolicy()).tenant.id
        try keyStore.createTenant(tenant)
        let audio = try AudioFileReader(path: TranscribePendingTests.samples + "/answer.ulaw.wav").readAllMono()
        return try (0..<count).map { index in
            let call = try catalog.registerCall(tenantID: tenant, externalID: "CA-\(name)-\(index)").id
            let recorder = CallRecorder(
                callID: call, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .g711u),
                catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: nil,
                logger: Logger(label: "test"))
            let ring = FrameRing(sampleRate: .hz8000)
            for frameIndex in 0..<(audio.count / 160) {
                let frame = ring.next(timestampMs: Int64(frameIndex) * 20)
                for i in 0..<160 { frame.samples[i] = audio[frameIndex * 160 + i] }
                try recorder.receive(frame, track: .caller)
            }
            try recorder.finish(atMs: Int64(audio.count / 8))
            return call
        }
    }
}

import Testing

/// `recordings restrict` and the audited override on export.
@Suite(.timeLimit(.minutes(15))) struct RestrictionCommandTests {
    @Test func aRestrictedRecordingIsExportedOnlyWithAnAuditedOverride() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-restrict-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let call = try #require(try RecordedCalls.record(1, in: temp + "/data").first)
        let recording = try #require(try Catalog(directory: temp + "/data").recordings(inCalls: [call]).first)

        let restrict = try cli.run(["recordings", "restrict", recording.id, "--reason", "subject objects (ticket 9)"])
        #expect(restrict.status == 0, "\(restrict.stderr)")
        let refused = try cli.run(["recordings", "export", recording.id, "--out", temp + "/a.wav"])
        #expect(refused.status == 1 && refused.stderr.contains("restricted"))
        #expect(!FileManager.default.fileExists(atPath: temp + "/a.wav"))
        let callRefused = try cli.run(["calls", "export", "CA-race-0", "--out", temp + "/c.wav"])
        #expect(callRefused.status == 1 && callRefused.stderr.contains("restricted"))

        let overridden = try cli.run([
            "recordings", "export", recording.id, "--out", temp + "/a.wav", "--override-reason", "court order 12",
        ])
        #expect(overridden.status == 0 && FileManager.default.fileExists(atPath: temp + "/a.wav"), "\(overridden.stderr)")
        let actions = try Catalog(directory: temp + "/data").auditLog.entries().map(\.action.rawValue)
        #expect(actions.contains("recording.restricted") && actions.contains("recording.restriction_overridden"))
        let overrideIndex = try #require(actions.firstIndex(of: "recording.restriction_overridden"))
        let decryptIndex = try #require(actions.lastIndex(of: "recording.decrypted"))
        #expect(overrideIndex < decryptIndex, "the override is audited before the decryption")

        #expect(try cli.run(["recordings", "restrict", recording.id, "--reason", "resolved", "--lift"]).status == 0)
        #expect(try cli.run(["recordings", "export", recording.id, "--out", temp + "/b.wav"]).status == 0)
        // The job cancelled while it was restricted is queued again by an operator and transcribed.
        let cancelled = try cli.run(["transcribe", "--pending", "--engine", "pocketsphinx", "--format", "json"])
        #expect(try cancelled.json()["cancelled"] as? Int == 0, "lifted before the first run: nothing cancelled")
        let unknown = try cli.run(["recordings", "restrict", "nope", "--reason", "x"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no recording with id nope"))
    }
}

extension RestrictionCommandTests {
    /// The audit actions of a data directory, in order.
    private func audit(_ data: String) throws -> [AuditEntry] {
        try Catalog(directory: data).auditLog.entries()
    }

    @Test func everyPathRefusesARestrictedRecordingWithoutAnAuditedOverride() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-restrict-paths-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let data = temp + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let calls = try RecordedCalls.record(2, in: data)
        let catalog = try Catalog(directory: data)
        let first = try #require(try catalog.recordings(inCalls: [calls[0]]).first)
        let second = try #require(try catalog.recordings(inCalls: [calls[1]]).first)

        // The worker: the restricted call's job is cancelled, its recording never decrypted.
        #expect(try cli.run(["recordings", "restrict", second.id, "--reason", "subject objects"]).status == 0)
        let transcribed = try cli.run(["transcribe", "--pending", "--engine", "pocketsphinx", "--format", "json"])
        #expect(try transcribed.json()["done"] as? Int == 1 && transcribed.json()["cancelled"] as? Int == 1)
        #expect(try catalog.jobs().first { $0.callId == calls[1] }?.state == .cancelled)
        #expect(try !audit(data).contains { $0.action == .recordingDecrypted && $0.subjectId == second.id })

        // Export of a recording or a call, and the transcript made from it: refused, nothing decrypted.
        #expect(try cli.run(["recordings", "restrict", first.id, "--reason", "subject objects"]).status == 0)
        let before = try audit(data).count
        let recording = try cli.run(["recordings", "export", first.id, "--out", temp + "/r.wav"])
        #expect(recording.status == 1 && recording.stderr.contains("recording \(first.id) is restricted"))
        #expect(recording.stderr.contains("--override-reason"), "\(recording.stderr)")
        let call = try cli.run(["calls", "export", calls[0], "--out", temp + "/c.wav"])
        #expect(call.status == 1 && call.stderr.contains("restricted"), "\(call.stderr)")
        let shown = try cli.run(["transcripts", "show", "--call", calls[0]])
        #expect(shown.status == 1 && shown.stderr.contains("restricted"), "\(shown.stderr)")
        #expect(try audit(data).count == before, "no decryption and no override was audited")
        let left = try FileManager.default.contentsOfDirectory(atPath: temp)
        #expect(left == ["data"], "no file, not even a partial one")

        // With the override: audited first, with its reason, in the decryption's transaction.
        for arguments in [
            ["calls", "export", calls[0], "--out", temp + "/c.wav"], ["transcripts", "show", "--call", calls[0]],
        ] {
            let run = try cli.run(arguments + ["--override-reason", "court order 12"])
            #expect(run.status == 0, "\(arguments[0]): \(run.stderr)")
            let entries = try audit(data)
            let override = try #require(entries.last { $0.action == .restrictionOverridden })
            #expect(override.subjectId == first.id && override.details.contains("court order 12"))
            let next = try #require(entries.first { $0.seq == override.seq + 1 })
            #expect(next.action == (arguments[0] == "calls" ? .recordingDecrypted : .transcriptDecrypted))
        }
        let exported = try #require(try audit(data).last { $0.action == .recordingExported })
        #expect(exported.subjectId == calls[0] && exported.details.contains("c.wav"))
        #expect(FileManager.default.fileExists(atPath: temp + "/c.wav"))
    }
}
