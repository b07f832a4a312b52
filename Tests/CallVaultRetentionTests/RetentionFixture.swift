import CallVaultCrypto
import CallVaultModel
import CallVaultRetention
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A real data directory (root key, key store, catalog) in /tmp with one tenant, removed afterwards.
final class RetentionFixture {
    let data: TestDataDirectory
    var root: String { data.root }
    var directory: DataDirectory { data.directory }
    var keyStore: KeyStore { data.keyStore }
    var catalog: Catalog { data.catalog }
    let tenantID: String

    init(voiceDays: Int = 30) throws {
        data = try TestDataDirectory("retention-test")
        var policy = TenantPolicy()
        policy.voiceDays = voiceDays
        tenantID = try data.addTenant("acme", policy: policy).tenant.id
    }

    var sweeper: Sweeper {
        Sweeper(catalog: catalog, keyStore: keyStore, dataDirectory: directory, logger: Logger(label: "test"))
    }

    /// A recording created at `createdAt` with a real sealed file of `seconds` 1-second segments.
    func record(
        at createdAt: Date, seconds: Int = 2, callID: String = UUID().uuidString, callerNumber: String? = nil
    ) throws -> RecordingRecord {
        let call =
            try catalog.call(tenantID: tenantID, externalID: callID)
            ?? catalog.registerCall(
                tenantID: tenantID, externalID: callID, callerNumber: callerNumber, startedAt: createdAt,
                callerKeys: callerNumber == nil ? nil : keyStore.callerKeys(tenantID: tenantID))
        let id = UUID().uuidString.lowercased()
        let relative = "recordings/\(tenantID)/\(id).cvr"
        try FileManager.default.createDirectory(
            atPath: directory.path + "/recordings/\(tenantID)", withIntermediateDirectories: true)
        let recording = try catalog.createRecording(
            id: id, callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: relative,
            createdAt: createdAt)
        let expiresOn = CalendarDay(secondsSince1970: Int64(recording.expiresAt.timeIntervalSince1970))
        let key = try keyStore.newDataKey(tenantID: tenantID, ownerID: id, kind: .voice, expiresOn: expiresOn)
        let metadata = SealedFileMetadata(
            kind: .voice, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .pcm16, sampleRate: 8000,
            createdAtMs: Int64(createdAt.timeIntervalSince1970 * 1000))
        let writer = try SealedFileWriter(path: directory.path + "/" + relative, dataKey: key.key, metadata: metadata)
        var segment = [UInt8](repeating: 0x11, count: 16_000)
        for index in 0..<seconds {
            try segment.withUnsafeBytes { try writer.append($0, last: index == seconds - 1) }
            segment[0] &+= 1
        }
        try writer.close()
        return recording
    }

    /// A sealed transcript of the recording's call, expiring `days` after `createdAt`.
    func transcript(of recording: RecordingRecord, at createdAt: Date, days: Double) throws -> TranscriptRecord {
        let id = UUID().uuidString.lowercased()
        let relative = "recordings/\(tenantID)/\(id).cvr"
        let expiresAt = createdAt.addingTimeInterval(days * 86_400)
        let transcript = TranscriptRecord(
            id: id, callId: recording.callId, tenantId: tenantID, engine: "pocketsphinx", path: relative,
            state: .complete, createdAt: createdAt, expiresAt: expiresAt)
        try catalog.insertTranscript(transcript, actor: "test")
        let key = try keyStore.newDataKey(
            tenantID: tenantID, ownerID: id, kind: .transcript,
            expiresOn: CalendarDay(secondsSince1970: Int64(expiresAt.timeIntervalSince1970)))
        let writer = try SealedFileWriter(
            path: directory.path + "/" + relative, dataKey: key.key,
            metadata: SealedFileMetadata(
                kind: .transcript, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .json,
                sampleRate: 0, createdAtMs: Int64(createdAt.timeIntervalSince1970 * 1000)))
        let text = Array(#"{"words":[]}"#.utf8)
        try text.withUnsafeBytes { try writer.append($0, last: true) }
        try writer.close()
        return transcript
    }

    /// Whether the recording's sealed file opens and reads to the end with the live key store.
    func isReadable(_ recording: RecordingRecord, dataDirectory: String? = nil) -> Bool {
        let base = dataDirectory ?? directory.path
        do {
            let key = try keyStore.dataKey(ownerID: recording.id, tenantID: recording.tenantId)
            let reader = try SealedRecordingReader(
                partPaths: [base + "/" + recording.path], dataKey: key, expectedTenantID: recording.tenantId,
                expectedRecordingID: recording.id)
            return try !reader.readAll().isEmpty
        } catch {
            return false
        }
    }
}

/// Days after a date.
func days(_ count: Double, after date: Date) -> Date { date.addingTimeInterval(count * 86_400) }
