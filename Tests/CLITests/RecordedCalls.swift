import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// Calls recorded into an initialised data directory through the real recorder, for CLI tests.
enum RecordedCalls {
    /// Records `count` one-track calls of the sample answer through the real recorder; returns their ids.
    static func record(_ count: Int, in data: String) throws -> [String] {
        let directory = DataDirectory(path: data)
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        let catalog = try Catalog(directory: data)
        let tenant = try catalog.addTenant(name: "race", policy: TenantPolicy()).tenant.id
        try keyStore.createTenant(tenant)
        let audio = try AudioFileReader(path: TranscribePendingTests.samples + "/answer.ulaw.wav").readAllMono()
        return try (0..<count).map { index in
            let call = try catalog.registerCall(tenantID: tenant, externalID: "CA-race-\(index)").id
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
@Suite(.timeLimit(.minutes(5))) struct RestrictionCommandTests {
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
