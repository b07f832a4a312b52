import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import CallVaultRecorder
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// RecordingWriter against a real catalog, key store and sealed files.
@Suite struct RecordingWriterTests {
    @Test func completeRecordingIsSealedCatalogedQueuedAndExportable() async throws {
        let f = try RecorderFixture(voiceDays: 30)
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        let tone = RecorderFixture.tone(seconds: 5)
        let bytes = RecorderFixture.bytes(tone)
        for second in 0..<5 {
            try bytes[(second * 16_000)..<((second + 1) * 16_000)].withUnsafeBytes {
                try writer.append(segment: $0, frameCount: 50)
            }
        }
        let job = try writer.finish()

        let row = try f.catalog.recording(id: writer.recording.id)
        #expect(row.state == .complete)
        #expect(row.durationMs == 5000)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: writer.filePath)[.size] as? Int)
        #expect(row.bytes == Int64(size))
        #expect(row.path.hasPrefix("recordings/\(f.tenantID)/"))
        #expect(row.path.hasSuffix("/\(row.id).cvr"))
        #expect(RecorderFixture.mode(writer.filePath) == 0o600)
        #expect(RecorderFixture.mode((writer.filePath as NSString).deletingLastPathComponent) == 0o700)
        #expect(job.recordingId == row.id)
        #expect(try f.catalog.jobs(state: .queued).map(\.id) == [job.id])

        // The data key expires on the day the catalog fixed from the tenant's 30 voice days.
        let expiresOn = CalendarDay(secondsSince1970: Int64(row.expiresAt.timeIntervalSince1970.rounded(.down)))
        guard
            case .active(_, let kind, let keyDay, _) = try f.keyStore.dataKeyStatus(
                ownerID: row.id,
                tenantID: f.tenantID
            )
        else {
            Issue.record("the recording has no active data key")
            return
        }
        #expect(kind == .voice)
        #expect(keyDay == expiresOn)
        #expect(row.expiresAt.timeIntervalSince(row.createdAt) == 30 * 86_400)

        // Strict verification: every segment authenticates and the file ends with `last`.
        let key = try f.keyStore.dataKey(ownerID: row.id, tenantID: f.tenantID)
        let verified = SealedRecordingVerifier.verify(
            partPaths: [writer.filePath],
            dataKey: key,
            expectedTenantID: f.tenantID,
            expectedRecordingID: row.id
        )
        #expect(verified.status == .ok)
        #expect(verified.segmentCount == 6)

        let before = try f.catalog.auditLog.entries().count
        let exported = try await RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
            .export(recordingID: row.id, actor: "test")
        #expect(exported.samples == tone)
        #expect(exported.isComplete)
        #expect(exported.durationMs == 5000)
        let audit = try f.catalog.auditLog.entries()
        #expect(audit.count == before + 1)
        #expect(audit.last?.action == .recordingDecrypted)
        #expect(audit.last?.subjectId == row.id)
        #expect(try f.catalog.auditLog.verify() == .intact(entries: audit.count, headHash: Array(audit.last!.hash)))
    }

    @Test func g711RecordingExportsDecodedPCM() async throws {
        let f = try RecorderFixture()
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .bot,
            codec: .g711u,
            sampleRate: 8000
        )
        let tone = RecorderFixture.tone(seconds: 2)
        let encoded = tone.map(G711.linearToMuLaw)
        try encoded[0..<8000].withUnsafeBytes { try writer.append(segment: $0, frameCount: 50) }
        _ = try encoded[8000...].withUnsafeBytes { try writer.finish(lastSegment: $0, frameCount: 50) }
        let exported = try await RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
            .export(recordingID: writer.recording.id, tenantID: f.tenantID, actor: "test")
        #expect(exported.samples == encoded.map(G711.muLawToLinear))
        #expect(exported.segmentCount == 2)
        #expect(try f.catalog.recording(id: writer.recording.id).durationMs == 2000)
    }

    @Test func refusesNativeCodecAndAppendsAfterFinish() throws {
        let f = try RecorderFixture()
        #expect(throws: RecorderError.self) {
            try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: .caller,
                codec: .native,
                sampleRate: 8000
            )
        }
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        try writer.finish()
        let payload = [UInt8](repeating: 0, count: 320)
        let error = payload.withUnsafeBytes { buffer -> RecorderError? in
            do throws(RecorderError) {
                try writer.append(segment: buffer, frameCount: 1)
                return nil
            } catch { return error }
        }
        #expect(error?.code == .writerClosed)
    }

    @Test func anotherTenantCannotExport() async throws {
        let f = try RecorderFixture()
        let other = try f.catalog.addTenant(name: "globex").tenant
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        try writer.finish()
        let before = try f.catalog.auditLog.entries().count
        await #expect(throws: RecorderError.self) {
            try await RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
                .export(recordingID: writer.recording.id, tenantID: other.id, actor: "test")
        }
        // Refused before anything was decrypted or audited.
        #expect(try f.catalog.auditLog.entries().count == before)
    }
}

/// A tenant added to the catalog without a key-store key gets one on its first recording.
@Suite struct RecordingWriterTenantKeyTests {
    @Test func firstRecordingCreatesTheTenantKey() throws {
        let f = try RecorderFixture()
        let tenant = try f.catalog.addTenant(name: "initech").tenant
        let call = try f.catalog.registerCall(tenantID: tenant.id, externalID: "CA-2")
        #expect(try !f.keyStore.hasTenant(tenant.id))
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: call.id,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        try writer.finish()
        #expect(try f.keyStore.hasTenant(tenant.id))
        #expect(writer.recording.tenantId == tenant.id)
    }
}

/// A recording whose file cannot be created does not stay `recording`.
@Suite struct RecordingWriterOpenFailureTests {
    @Test func failedOpenMarksTheRowInterrupted() throws {
        let f = try RecorderFixture()
        // The day's folder exists but is not writable: the sealed file cannot be created.
        let folder = try f.directory.makeRecordingDirectory(tenantID: f.tenantID, day: CalendarDay.today())
        #expect(chmod(folder, 0o500) == 0)
        defer { chmod(folder, 0o700) }
        guard geteuid() != 0 else {
            // root ignores directory permissions; use an existing file name instead.
            return try failedOpenAsRoot(f, folder: folder)
        }
        let error = #expect(throws: RecorderError.self) {
            try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: .caller,
                codec: .pcm16,
                sampleRate: 8000
            )
        }
        #expect(error?.code == .ioFailed)
        try expectAbandoned(f)
    }

    private func failedOpenAsRoot(_ f: RecorderFixture, folder: String) throws {
        chmod(folder, 0o700)
        // Replace the folder by a file: creating the sealed file beneath it fails (ENOTDIR).
        try FileManager.default.removeItem(atPath: folder)
        #expect(FileManager.default.createFile(atPath: folder, contents: Data()))
        let error = #expect(throws: RecorderError.self) {
            try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: .caller,
                codec: .pcm16,
                sampleRate: 8000
            )
        }
        #expect(error != nil)
        try expectAbandoned(f)
    }

    private func expectAbandoned(_ f: RecorderFixture) throws {
        #expect(try f.catalog.recordingsLeftOpen().isEmpty)
        let rows = try f.catalog.recordingSummaries(tenantID: f.tenantID)
        #expect(rows.map(\.state) == [.interrupted])
        let entry = try #require(try f.catalog.auditLog.entries().last)
        #expect(entry.action == .recordingRecovered)
        #expect(entry.actor == "recorder")
        #expect(entry.details.contains("openFailed"))
    }
}
