import CallVaultStore
import Foundation
import Logging
import CallVaultTestSupport
import Testing

@testable import CallVaultRetention

/// Restriction in a subject export goes through the exporter's door: left out by default, and with
/// the override audited in the decryption's own transaction, or not decrypted at all.
extension SubjectExportTests {
    @Test func aRestrictedRecordingIsDecryptedOnlyThroughTheExportersAuditedOverride() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let call = try recordCall(
            fixture, caller: try Self.audio("caller.flac", seconds: 2), bot: nil, number: caller, startedAt: t0)
        let recording = try #require(try fixture.catalog.recordings(inCalls: [call]).first)
        try fixture.catalog.setRestricted(recordingID: recording.id, true, reason: "caller contests accuracy")

        let plain = try await exporter(fixture).export(
            tenantID: fixture.tenantID, phoneNumber: caller, to: fixture.root + "/a.zip")
        #expect(plain.recordingsRestricted == 1 && plain.recordingsIncluded == 0)
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .recordingDecrypted })

        // The catalog busy: neither the override nor the decryption can be audited, so neither happens.
        let impatient = try Catalog(path: fixture.catalog.path, busyTimeout: 0.2)
        let lock = try CatalogWriteLock(path: fixture.catalog.path)
        let busy = SubjectExport(
            catalog: impatient, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            logger: Logger(label: "test"))
        let error = await #expect(throws: RetentionError.self) {
            try await busy.export(
                tenantID: fixture.tenantID, phoneNumber: caller, to: fixture.root + "/b.zip",
                options: .init(includeRestricted: true, overrideReason: "court order 12"))
        }
        try lock.release()
        #expect(error?.code == .catalogFailed && error?.message.contains("could not be audited") == true)
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/b.zip"))
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .restrictionOverridden })
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .recordingDecrypted })

        let included = try await exporter(fixture).export(
            tenantID: fixture.tenantID, phoneNumber: caller, to: fixture.root + "/c.zip",
            options: .init(includeRestricted: true, overrideReason: "court order 12"))
        #expect(included.restrictionsOverridden == 1 && included.recordingsIncluded == 1)
        let entries = try fixture.catalog.auditLog.entries()
        let override = try #require(entries.first { $0.action == .restrictionOverridden })
        let decrypted = try #require(entries.first { $0.action == .recordingDecrypted })
        #expect(override.seq + 1 == decrypted.seq, "one transaction, the override first")
        #expect(decrypted.subjectId == recording.id)
        #expect(Self.details(override)["reason"] == "court order 12")
        #expect(Self.details(override)["export"] == included.exportId)
        #expect(Self.details(decrypted)["export"] == included.exportId)
    }
}
