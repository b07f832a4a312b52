import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// Counts heap allocations of `RecordingWriter.append` when a malloc counter is preloaded
/// (``MallocCounter``: it needs `LD_PRELOAD` of a counting library). Without it the test says so and is
/// skipped.
/// Serialized: the preloaded counter keeps one count for the process, so two measurements must not overlap.
@Suite(.serialized) struct WriterAllocationTests {
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
        #expect(poll(timeout: .seconds(10)) { group.passes > 0 }, "the group flushed meanwhile")
        try writer.finish()
    }

    /// The per-frame path of a call (gate, segmenter, writer, and the storage-gap counters the ingest
    /// compares per frame) once both tracks are open.
    @Test(.enabled(if: MallocCounter.isAvailable, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
    func receiveMakesNoAllocationsOnceBothTracksAreOpen() throws {
        let f = try RecorderFixture()
        let recorder = CallRecorder(
            callID: f.callID,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .g711u, detectInBandDTMF: false),
            catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory, flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        var index = 0
        func next(_ count: Int) throws {
            for _ in 0..<count {
                try recorder.receive(ring.next(timestampMs: Int64(index) * 20), track: .caller)
                try recorder.receive(ring.next(timestampMs: Int64(index) * 20), track: .bot)
                index += 1
            }
        }
        try next(60)  // both tracks open, a segment sealed each
        let storage = recorder.storageChanges
        let allocations = try MallocCounter.count { try next(600) }
        print("allocations in 600 frames of two tracks through CallRecorder.receive:", allocations)
        #expect(allocations == 0)
        #expect(recorder.storageChanges == storage && recorder.segmentsLost == 0 && recorder.segmentsSealed >= 24)
        try recorder.finish(atMs: Int64(index) * 20)
    }
}
