import CallVaultCrypto
import CallVaultModel
import CallVaultRecorder
import CallVaultTestSupport
import Foundation
import Testing

/// FlushGroup syncs real files; what a flush reports is read back with the sealed reader.
@Suite struct FlushGroupTests {
    private func openWriter(_ f: RecorderFixture, _ group: FlushGroup, track: RecordingTrack = .caller) throws
        -> RecordingWriter
    {
        try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: track,
            codec: .pcm16,
            sampleRate: 8000,
            flushGroup: group
        )
    }

    @Test(arguments: FlushGroup.SyncMethod.allCases)
    func flushSyncsDirtyWritersAndFlushedSegmentsReadBack(method: FlushGroup.SyncMethod) throws {
        let f = try RecorderFixture()
        let group = FlushGroup(interval: .seconds(1), catalog: f.catalog, progressInterval: .zero, method: method)
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
        #expect(
            row.bytes
                == Int64(try #require(try FileManager.default.attributesOfItem(atPath: caller.filePath)[.size] as? Int))
        )
        #expect(try f.catalog.recording(id: bot.recording.id).durationMs == 0)

        // The open file reads back (no `last` yet) with every flushed segment verified.
        let key = try f.keyStore.dataKey(ownerID: caller.recording.id, tenantID: f.tenantID)
        let reader = try SealedRecordingReader(
            partPaths: [caller.filePath],
            dataKey: key,
            expectedTenantID: f.tenantID,
            expectedRecordingID: caller.recording.id,
            allowIncomplete: true
        )
        #expect(try reader.readAll() == bytes)
        #expect(reader.ending == .missingLast)

        try caller.finish()
        #expect(group.count == 1)
        try bot.finish()
        #expect(group.count == 0)
    }

    /// The kernel here reports write-back errors through `syncfs` (Linux ≥ 5.8, read from /proc rather
    /// than `uname`): the group must not fall back to a file at a time on it.
    @Test func syncsByFilesystemWhereTheKernelReportsItsErrors() throws {
        let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        let recent = numbers.count == 2 && (numbers[0] > 5 || (numbers[0] == 5 && numbers[1] >= 8))
        #expect(FlushGroup.SyncMethod.preferred == (recent ? .filesystem : .eachFile))
        #expect(FlushGroup().method == .preferred)
    }

    @Test func groupThreadFlushesOnItsOwn() throws {
        let f = try RecorderFixture()
        let group = FlushGroup(interval: .milliseconds(50), catalog: f.catalog, progressInterval: .zero)
        let writer = try openWriter(f, group)
        group.start()
        defer { group.stop() }
        let segment = RecorderFixture.bytes(RecorderFixture.tone(seconds: 1))
        try segment.withUnsafeBytes { try writer.append(segment: $0, frameCount: 50) }
        #expect(try poll { try f.catalog.recording(id: writer.recording.id).durationMs >= 1000 })
        #expect(try f.catalog.recording(id: writer.recording.id).durationMs == 1000)
        #expect(group.passes >= 1)
        #expect(group.lastFlushLatency != nil)
        group.stop()
        let passes = group.passes
        Thread.sleep(forTimeInterval: 0.2)  // time for passes that must not happen
        #expect(group.passes == passes)  // stopped means stopped
        try writer.finish()
    }
}

/// Writers appending on their own threads while the group flushes every millisecond: every segment
/// of every recording is there, in order, and authenticates.
@Suite struct FlushGroupConcurrencyTests {
    @Test(arguments: FlushGroup.SyncMethod.allCases)
    func concurrentAppendsAndFlushesLoseNothing(method: FlushGroup.SyncMethod) throws {
        let f = try RecorderFixture()
        let group = FlushGroup(
            interval: .milliseconds(1), catalog: f.catalog, progressInterval: .milliseconds(10), method: method)
        let writers = try (0..<4).map { i in
            try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: i % 2 == 0 ? .caller : .bot,
                codec: .pcm16,
                sampleRate: 8000,
                maxSegmentByteCount: 320,
                flushGroup: group
            )
        }
        group.start()
        let failures = Failures()
        // Each writer is used by exactly one thread (its iteration); the group touches only its handle.
        nonisolated(unsafe) let shared = writers
        DispatchQueue.concurrentPerform(iterations: writers.count) { w in
            var payload = [UInt8](repeating: 0, count: 320)
            do {
                for s in 0..<300 {
                    payload[0] = UInt8(w)
                    payload[1] = UInt8(truncatingIfNeeded: s)
                    try payload.withUnsafeBytes { try shared[w].append(segment: $0, frameCount: 1) }
                }
            } catch {
                failures.add("\(error)")
            }
        }
        group.stop()
        #expect(failures.all.isEmpty)
        for (w, writer) in writers.enumerated() {
            try writer.finish()
            let key = try f.keyStore.dataKey(ownerID: writer.recording.id, tenantID: f.tenantID)
            let reader = try SealedRecordingReader(
                partPaths: [writer.filePath],
                dataKey: key,
                expectedTenantID: f.tenantID,
                expectedRecordingID: writer.recording.id
            )
            var count = 0
            while let segment = try reader.next() {
                if segment.isLast { break }
                #expect(segment.plaintext[0] == UInt8(w))
                #expect(segment.plaintext[1] == UInt8(truncatingIfNeeded: count))
                count += 1
            }
            #expect(count == 300)
            #expect(try f.catalog.recording(id: writer.recording.id).durationMs == 300 * 20)
        }
        #expect(group.count == 0)
    }

    private final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ failure: String) {
            lock.lock()
            list.append(failure)
            lock.unlock()
        }
        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return list
        }
    }
}

/// The flush latency with many open recordings: one pass syncs each file that has a new segment.
/// Prints the figure; asserts every dirty file was synced and nothing clean was.
@Suite struct FlushLatencyTests {
    @Test(arguments: [1, 10, 100], FlushGroup.SyncMethod.allCases)
    func onePassSyncsEveryOpenRecording(recordings: Int, method: FlushGroup.SyncMethod) throws {
        let f = try RecorderFixture()
        let group = FlushGroup(method: method)
        let writers = try (0..<recordings).map { _ in
            try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: .caller,
                codec: .g711u,
                sampleRate: 8000,
                maxSegmentByteCount: 8000,
                flushGroup: group
            )
        }
        let second = [UInt8](repeating: 0xFF, count: 8000)  // 1 s of μ-law silence
        var latencies: [Duration] = []
        for _ in 0..<5 {
            for writer in writers { try second.withUnsafeBytes { try writer.append(segment: $0, frameCount: 50) } }
            #expect(group.flushNow() == recordings)
            latencies.append(try #require(group.lastFlushLatency))
        }
        #expect(group.flushNow() == 0)
        let sorted = latencies.sorted()
        print(
            "flush pass (\(method)) over \(recordings) open recordings (1 s g711u segment each), 5 passes: median \(sorted[2]), max \(sorted[4])"
        )
        for writer in writers { try writer.finish() }
    }
}
