import CallVaultRecorder
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Counts heap allocations of `RecordingWriter.append` when a malloc counter is preloaded.
///
/// Needs `LD_PRELOAD` of a library exporting `cv_count_begin()` / `cv_count_end() -> long` that count
/// malloc-family calls on the calling thread (the source is in Tests/CallVaultCryptoTests/AllocationProbeTests.swift).
/// Without it the test says so and is skipped.
@Suite struct WriterAllocationTests {
    typealias Begin = @convention(c) () -> Void
    typealias End = @convention(c) () -> Int

    static let hooks: (Begin, End)? = {
        let handle = dlopen(nil, RTLD_NOW)
        guard let b = dlsym(handle, "cv_count_begin"), let e = dlsym(handle, "cv_count_end") else { return nil }
        return (unsafeBitCast(b, to: Begin.self), unsafeBitCast(e, to: End.self))
    }()

    static var available: Bool { hooks != nil }

    @Test(.enabled(if: available, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
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
        let (begin, end) = Self.hooks!
        let allocations = try segment.withUnsafeBytes { buffer in
            begin()
            for _ in 0..<600 { try writer.append(segment: buffer, frameCount: 50) }
            return end()
        }
        print("allocations in 600 RecordingWriter.append(16000 bytes) with the flush group running:", allocations)
        #expect(allocations == 0)
        // Control: the counter does count (a catalog read allocates).
        begin()
        _ = try f.catalog.recording(id: writer.recording.id)
        #expect(end() > 0)
        #expect(group.passes > 0)
        try writer.finish()
    }
}
