import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultStore
import Foundation
import Logging
import CallVaultTestSupport
import Testing

@testable import CallVaultRecorder

/// The exporter as the one door to a recording's audio: the GDPR Art. 18 restriction and its audited
/// override, and audit entries that must be written before anything is decrypted or exported.
@Suite("Recording exporter: restriction, override and audit at the one door")
struct RecordingExporterTests {
    /// Records two seconds of tone on the caller track through the real recorder; returns its id.
    private func record(_ fixture: RecorderFixture) throws -> String {
        let recorder = CallRecorder(
            callID: fixture.callID,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let tone = RecorderFixture.tone(seconds: 2)
        for index in 0..<(tone.count / 160) {
            let frame = ring.next(timestampMs: Int64(index) * 20)
            for i in 0..<160 { frame.samples[i] = tone[index * 160 + i] }
            try recorder.receive(frame, track: .caller)
        }
        try recorder.finish(atMs: 2000)
        return try #require(recorder.recordingIDs[.caller])
    }

    private func exporter(_ fixture: RecorderFixture, catalog: Catalog? = nil) -> RecordingExporter {
        RecordingExporter(
            catalog: catalog ?? fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format)
    }

    private func actions(_ fixture: RecorderFixture) throws -> [AuditAction] {
        try fixture.catalog.auditLog.entries().map(\.action)
    }

    @Test func aRestrictedRecordingIsRefusedWithoutAnOverrideAndNothingIsDecrypted() async throws {
        let fixture = try RecorderFixture()
        let id = try record(fixture)
        try fixture.catalog.setRestricted(recordingID: id, true, reason: "subject objects (ticket 9)")
        let error = await #expect(throws: RecorderError.self) {
            try await exporter(fixture).export(recordingID: id, actor: "test")
        }
        #expect(error?.code == .restricted)
        #expect(error?.message.contains(id) == true && error?.message.contains("--override-reason") == true)
        #expect(error?.message.contains("--lift") == true, "the message says how to lift it too")
        #expect(try !actions(fixture).contains(.recordingDecrypted), "refused before the decryption was audited")
        #expect(try !actions(fixture).contains(.restrictionOverridden))
    }

    @Test func anOverrideIsAuditedWithItsReasonInTheDecryptionsTransaction() async throws {
        let fixture = try RecorderFixture()
        let id = try record(fixture)
        try fixture.catalog.setRestricted(recordingID: id, true, reason: "subject objects (ticket 9)")
        let export = try await exporter(fixture).export(
            recordingID: id, actor: "test", restrictionOverride: RestrictionOverride(reason: "court order 12"))
        #expect(export.restrictionOverridden && export.samples.count == 16_000)

        let entries = try fixture.catalog.auditLog.entries()
        let override = try #require(entries.first { $0.action == .restrictionOverridden })
        let decrypted = try #require(entries.first { $0.action == .recordingDecrypted })
        #expect(override.subjectId == id && override.details.contains("court order 12"))
        #expect(override.seq + 1 == decrypted.seq, "appended together, the override first")
        #expect(decrypted.seq == export.auditSeq)

        // Lifted: an override given anyway is not audited as one.
        try fixture.catalog.setRestricted(recordingID: id, false, reason: "resolved")
        let again = try await exporter(fixture).export(
            recordingID: id, actor: "test", restrictionOverride: RestrictionOverride(reason: "court order 12"))
        #expect(!again.restrictionOverridden)
        #expect(try actions(fixture).filter { $0 == .restrictionOverridden }.count == 1)
    }

    @Test func anOverrideNeedsAReasonThatFitsTheAuditLog() async throws {
        let fixture = try RecorderFixture()
        let id = try record(fixture)
        try fixture.catalog.setRestricted(recordingID: id, true, reason: "subject objects")
        for reason in ["", String(repeating: "x", count: 501)] {
            let error = await #expect(throws: RecorderError.self) {
                try await exporter(fixture).export(recordingID: id, actor: "test", restrictionOverride: .init(reason: reason))
            }
            #expect(error?.code == .invalidArgument)
        }
        #expect(try !actions(fixture).contains(.recordingDecrypted))
    }

    @Test func aDecryptionWhoseAuditCannotBeWrittenIsNotDone() async throws {
        let fixture = try RecorderFixture()
        let id = try record(fixture)
        try fixture.catalog.setRestricted(recordingID: id, true, reason: "subject objects")
        let impatient = try Catalog(path: fixture.catalog.path, busyTimeout: 0.2)
        let lock = try CatalogWriteLock(path: fixture.catalog.path)
        let error = await #expect(throws: RecorderError.self) {
            try await exporter(fixture, catalog: impatient).export(
                recordingID: id, actor: "test", restrictionOverride: .init(reason: "court order 12"))
        }
        try lock.release()
        #expect(error?.code == .auditFailed && error?.message.contains("not done") == true)
        #expect(try !actions(fixture).contains(.recordingDecrypted))
        #expect(try !actions(fixture).contains(.restrictionOverridden), "neither entry: one transaction")
    }

    @Test func anExportWhoseAuditEntryFailsFailsAndLeavesNoFile() async throws {
        let fixture = try RecorderFixture()
        let id = try record(fixture)
        let impatient = try Catalog(path: fixture.catalog.path, busyTimeout: 0.2)
        let exporter = exporter(fixture, catalog: impatient)
        let export = try await exporter.export(recordingID: id, actor: "test")
        let out = fixture.temp + "/out/a.wav"
        try FileManager.default.createDirectory(atPath: fixture.temp + "/out", withIntermediateDirectories: true)

        let lock = try CatalogWriteLock(path: fixture.catalog.path)
        let error = await #expect(throws: RecorderError.self) {
            try await exporter.write(
                export.samples, sampleRate: export.sampleRate, channels: 1, to: out, actor: "test",
                tenantID: fixture.tenantID, subjectID: id)
        }
        try lock.release()
        #expect(error?.code == .auditFailed && error?.message.contains("no file was left") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.temp + "/out").isEmpty, "nor a partial one")
        #expect(try !actions(fixture).contains(.recordingExported))

        try await exporter.write(
            export.samples, sampleRate: export.sampleRate, channels: 1, to: out, actor: "test",
            tenantID: fixture.tenantID, subjectID: id)
        #expect(try AudioFileReader(path: out).readAllMono() == export.samples)
        let exported = try #require(try fixture.catalog.auditLog.entries().last)
        #expect(exported.action == .recordingExported && exported.subjectId == id && exported.details.contains("a.wav"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.temp + "/out") == ["a.wav"])

        // Never replaced, and no entry for the refusal.
        let exists = await #expect(throws: RecorderError.self) {
            try await exporter.write(
                [0, 0], sampleRate: 8000, channels: 1, to: out, actor: "test", tenantID: fixture.tenantID,
                subjectID: id)
        }
        #expect(exists?.code == .outputExists)
        #expect(try actions(fixture).filter { $0 == .recordingExported }.count == 1)
        #expect(try AudioFileReader(path: out).readAllMono() == export.samples)
    }
}
