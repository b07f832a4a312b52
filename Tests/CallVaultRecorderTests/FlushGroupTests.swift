import CallVaultCrypto
import CallVaultRecorder
import CallVaultStore
import Foundation
import Testing

/// FlushGroup syncs real files; what a flush reports is read back with the sealed reader.
@Suite struct FlushGroupTests {
    private func openWriter(_ f: RecorderFixture, _ group: FlushGroup, track: RecordingTrack = .caller) throws
        -> RecordingWriter
    {
        try RecordingWriter(
            catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory, callID: f.callID, track: track,
            codec: .pcm16, sampleRate: 8000, flushGroup: group)
    }

    @Test func flushSyncsDirtyWritersAndFlushedSegmentsReadBack() throws {
        let f = try RecorderFixture()
        let group = FlushGroup(interval: .seconds(1), catalog: f.catalog, progressInterval: .zero)
        let caller = try openWriter(f, group)
        let bot = try openWriter(f, group, track: .bot)
        #expect(group.count == 2)
        #expect(group.lastFlushLatency == nil)
        // Opening synced the headers: nothing is dirty yet.
        #expect(group.flushNow() == 0)

        let bytes = RecorderFixture.bytes(RecorderFixture.tone(seconds: 3))
        for second in 0..<3 {
            try bytes[(second * 16_000)..<((second + 1) * 16_000)].withUnsafeBytes {
                try caller.append(segment: $0, frameCount: 50)
            }
        }
        #expect(group.flushNow() == 1)  // only the caller track had unsynced data
        let latency = try #require(group.lastFlushLatency)
        #expect(latency > .zero)
        #expect(group.flushNow() == 0)

        // Durable progress reached the catalog from the flush, not from append.
        let row = try f.catalog.recording(id: caller.recording.id)
        #expect(row.state == .recording)
        #expect(row.durationMs == 3000)
        #expect(row.bytes == Int64(try #require(try FileManager.default.attributesOfItem(atPath: caller.filePath)[.size] as? Int)))
        #expect(try f.catalog.recording(id: bot.recording.id).durationMs == 0)

        // The open file reads back (no `last` yet) with every flushed segment verified.
        let key = try f.keyStore.dataKey(ownerID: caller.recording.id, tenantID: f.tenantID)
        let reader = try SealedRecordingReader(
            partPaths: [caller.filePath], dataKey: key, expectedTenantID: f.tenantID,
            expectedRecordingID: caller.recording.id, allowIncomplete: true)
        #expect(try reader.readAll() == bytes)
        #expect(reader.ending == .missingLast)

        try caller.finish()
        #expect(group.count == 1)
        try bot.finish()
        #expect(group.count == 0)
    }

    @Test func groupThreadFlushesOnItsOwn() throws {
        let f = try RecorderFixture()
        let group = FlushGroup(interval: .milliseconds(50), catalog: f.catalog, progressInterval: .zero)
        let writer = try openWriter(f, group)
        group.start()
        defer { group.stop() }
        let segment = RecorderFixture.bytes(RecorderFixture.tone(seconds: 1))
        try segment.withUnsafeBytes { try writer.append(segment: $0, frameCount: 50) }
        let deadline = Date().addingTimeInterval(5)
        while try f.catalog.recording(id: writer.recording.id).durationMs < 1000, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(try f.catalog.recording(id: writer.recording.id).durationMs == 1000)
        #expect(group.passes >= 1)
        #expect(group.lastFlushLatency != nil)
        group.stop()
        let passes = group.passes
        Thread.sleep(forTimeInterval: 0.2)
        #expect(group.passes == passes)  // stopped means stopped
        try writer.finish()
    }
}
