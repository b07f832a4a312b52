import CallVaultRecorder
import CallVaultTestSupport
import Foundation
import Testing

/// Counts heap allocations of `RecordingWriter.append` when a malloc counter is preloaded
/// (``MallocCounter``: it needs `LD_PRELOAD` of a counting library). Without it the test says so and is
/// skipped.
@Suite struct WriterAllocationTests {
    @Test(.enabled(if: MallocCounter.isAvailable, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
    func appendMakesNoAllocationsWhileTheGroupFlushes() throws {
        let f = try RecorderFixture()
        let group = FlushGroup(interval: .milliseconds(5), catalog: f.catalog, progressInterval: .milliseconds(20))
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000,
            flushGroup: group
        )
        group.start()
        defer { group.stop() }
        let segment = RecorderFixture.bytes(RecorderFixture.tone(seconds: 1))
        try segment.withUnsafeBytes { try writer.append(segment: $0, frameCount: 50) }  // warm up
        let allocations = try segment.withUnsafeBytes { buffer in
            try MallocCounter.count { for _ in 0..<600 { try writer.append(segment: buffer, frameCount: 50) } }
        }
        print("allocations in 600 RecordingWriter.append(16000 bytes) with the flush group running:", allocations)
        #expect(allocations == 0)
        // Control: the counter does count (a catalog read allocates).
        #expect(try MallocCounter.count { _ = try f.catalog.recording(id: writer.recording.id) } > 0)
        #expect(group.passes > 0)
        try writer.finish()
    }
}
