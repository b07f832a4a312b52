import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultRecorder
import CallVaultModel
import CallVaultStore
import Foundation
import Logging
import Testing

/// Start-up recovery over files a crash left behind: torn tails, extra parts, no file at all.
@Suite struct RecordingRecoveryTests {
    private func recovery(_ f: RecorderFixture) -> RecordingRecovery {
        RecordingRecovery(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
    }

    @Test func tornTailIsIgnoredAndRecordingIsInterruptedAuditedAndQueued() async throws {
        let f = try RecorderFixture()
        let bytes = RecorderFixture.bytes(RecorderFixture.tone(seconds: 3))
        var recordingID = ""
        var path = ""
        do {
            let writer = try RecordingWriter(
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory,
                callID: f.callID,
                track: .caller,
                codec: .pcm16,
                sampleRate: 8000
            )
            recordingID = writer.recording.id
            path = writer.filePath
            for second in 0..<3 {
                try bytes[(second * 16_000)..<((second + 1) * 16_000)].withUnsafeBytes {
                    try writer.append(segment: $0, frameCount: 50)
                }
            }
            try writer.sync()
        }  // dropped without finish: what a crash leaves
        // A torn fourth segment: its frame header says 16 000 bytes, only 100 arrived.
        RecorderFixture.appendRaw([0, 0, 0x3E, 0x80, 0, 0, 0, 3, 0] + [UInt8](repeating: 0xAB, count: 100), to: path)

        let results = try await recovery(f).run()
        let result = try #require(results.first)
        #expect(results.count == 1)
        #expect(result.recordingID == recordingID)
        #expect(result.outcome == .readable)
        #expect(result.segmentCount == 3)
        #expect(result.durationMs == 3000)
        #expect(result.ending == SealedFileEnding.tornTail.rawValue)
        let row = try f.catalog.recording(id: recordingID)
        #expect(row.state == .interrupted)
        #expect(row.durationMs == 3000)
        #expect(row.bytes == result.bytes)
        let jobs = try f.catalog.jobs(state: .queued)
        #expect(jobs.map(\.id) == [try #require(result.jobID)])
        let entry = try #require(try f.catalog.auditLog.entries().last)
        #expect(entry.action == .recordingRecovered)
        #expect(entry.subjectId == recordingID)
        #expect(entry.details.contains("\"segments\":\"3\""))
        #expect(try f.catalog.auditLog.verify().isIntact)

        // Nothing left open: a second start-up recovers nothing.
        #expect(try await recovery(f).run().isEmpty)
        // The interrupted recording exports up to its last verified segment.
        let exported = try await RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
            .export(recordingID: recordingID, actor: "test")
        #expect(RecorderFixture.bytes(exported.samples) == bytes)
        #expect(!exported.isComplete)
    }

    @Test func multiPartRecordingIsReadAcrossParts() async throws {
        let f = try RecorderFixture()
        let first = RecorderFixture.tone(seconds: 2)
        let second = RecorderFixture.tone(seconds: 2, offset: 16_000)
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        let firstBytes = RecorderFixture.bytes(first)
        for s in 0..<2 {
            try firstBytes[(s * 16_000)..<((s + 1) * 16_000)].withUnsafeBytes {
                try writer.append(segment: $0, frameCount: 50)
            }
        }
        try writer.sync()
        // The process restarted and continued the recording in part 1, from segment index 2.
        let key = try f.keyStore.dataKeyWithID(ownerID: writer.recording.id, tenantID: f.tenantID)
        let part1 = RecordingFiles.partPath(firstPart: writer.filePath, part: 1)
        let continued = try SealedFileWriter(
            path: part1,
            dataKey: key.key,
            metadata: SealedFileMetadata(
                kind: .voice,
                tenantID: f.tenantID,
                recordingID: writer.recording.id,
                keyID: key.keyID,
                codec: .pcm16,
                sampleRate: 8000,
                createdAtMs: 0,
                partNumber: 1,
                firstSegmentIndex: 2
            )
        )
        let secondBytes = RecorderFixture.bytes(second)
        for s in 0..<2 {
            try secondBytes[(s * 16_000)..<((s + 1) * 16_000)].withUnsafeBytes { try continued.append($0, last: false) }
        }
        try continued.close()
        #expect(RecordingFiles.existingParts(firstPart: writer.filePath) == [writer.filePath, part1])

        let result = try #require(try await recovery(f).run().first)
        #expect(result.partCount == 2)
        #expect(result.segmentCount == 4)
        #expect(result.durationMs == 4000)
        #expect(result.ending == SealedFileEnding.missingLast.rawValue)
        let exported = try await RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
            .export(recordingID: writer.recording.id, actor: "test")
        #expect(exported.samples == first + second)
        #expect(exported.partCount == 2)
    }

    /// Opus is counted from its packets (one 20 ms frame each), not decoded: a crashed Opus recording
    /// gets the duration of its sealed segments, as PCM and G.711 do, and the export agrees with it.
    @Test func anOpusRecordingACrashLeftOpenGetsTheDurationOfItsSealedSegments() async throws {
        let f = try RecorderFixture()
        var recordingID = ""
        do {
            let recorder = CallRecorder(
                callID: f.callID,
                settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .opus, detectInBandDTMF: false),
                catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory, flushGroup: nil,
                logger: Logger(label: "test"))
            let ring = FrameRing(sampleRate: .hz8000)
            for index in 0..<230 {  // 4 whole segments of 50 frames, then 30 frames never sealed
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<160 { frame.samples[i] = Int16(6000 * sin(2 * .pi * 440 * Double(index * 160 + i) / 8000)) }
                try recorder.receive(frame, track: .caller)
            }
            recordingID = try #require(recorder.recordingIDs[.caller])
        }  // dropped without finish: what a crash leaves

        let recovery = RecordingRecovery(
            catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory, payloadFormat: SegmentPayload.format)
        let result = try #require(try await recovery.run().first { $0.recordingID == recordingID })
        #expect(result.outcome == .readable && result.segmentCount == 4, "\(result)")
        #expect(result.durationMs == 4000 && result.detail == nil, "\(result)")
        #expect(try f.catalog.recording(id: recordingID).durationMs == 4000)
        let exported = try await RecordingExporter(
            catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory, payloadFormat: SegmentPayload.format
        ).export(recordingID: recordingID, actor: "test")
        #expect(exported.samples.count == 32_000 && !exported.isComplete)
    }

    @Test func recordingWithoutFileIsInterruptedWithNothingQueued() async throws {
        let f = try RecorderFixture()
        let row = try f.catalog.createRecording(
            callID: f.callID,
            track: .bot,
            codec: .pcm16,
            sampleRate: 8000,
            path: "recordings/x/2026-01-01/none.cvr"
        )
        let result = try #require(try await recovery(f).run().first)
        #expect(result.recordingID == row.id)
        #expect(result.outcome == .noFile)
        #expect(result.jobID == nil)
        #expect(try f.catalog.recording(id: row.id).state == .interrupted)
        #expect(try f.catalog.jobs().isEmpty)
    }

    @Test func tamperedSegmentStopsTheCountAndIsReportedDamaged() async throws {
        let f = try RecorderFixture()
        let writer = try RecordingWriter(
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            callID: f.callID,
            track: .caller,
            codec: .pcm16,
            sampleRate: 8000
        )
        let bytes = RecorderFixture.bytes(RecorderFixture.tone(seconds: 2))
        for s in 0..<2 {
            try bytes[(s * 16_000)..<((s + 1) * 16_000)].withUnsafeBytes {
                try writer.append(segment: $0, frameCount: 50)
            }
        }
        try writer.sync()
        // Flip one ciphertext byte of the second segment.
        let handle = try #require(FileHandle(forUpdatingAtPath: writer.filePath))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 100)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: size - 100)
        try handle.write(contentsOf: [byte ^ 1])
        try handle.close()
        let result = try #require(try await recovery(f).run().first)
        #expect(result.outcome == .damaged)
        #expect(result.segmentCount == 1)
        #expect(result.durationMs == 1000)
        #expect(result.detail == SealedFileError.Code.segmentAuthenticationFailed.rawValue)
        #expect(try f.catalog.recording(id: writer.recording.id).state == .interrupted)
    }
}

/// Node ownership (issue 14): with ``ServeNodes`` a node recovers only the open recordings of nodes that
/// are gone; a live node's (lease held, by a process on another host) are spared until its lease runs out.
@Suite struct RecordingOwnershipTests {
    @Test func aLiveNodesRecordingIsSparedUntilItsLeaseRunsOutAndAToolsIsRecoveredAtOnce() async throws {
        let f = try RecorderFixture()
        let leases = serviceLeases(for: f.catalog)
        let live = "serve.livenode0001"
        // Held by a process on another host: only the lease's expiry tells it is gone.
        let clock = ContinuousClock()
        let leaseTime = Duration.seconds(3)
        let askedAt = clock.now
        #expect(try await leases.acquire(name: live, holder: "serve@elsewhere.example:4242:x1", for: leaseTime))
        let acquiredBy = clock.now
        let path = "recordings/x/2026-01-01/none.cvr"
        let owned = try f.catalog.createRecording(callID: f.callID, track: .bot, codec: .pcm16, sampleRate: 8000, path: path, node: live)
        let mine = try f.catalog.createRecording(
            callID: f.callID, track: .caller, codec: .pcm16, sampleRate: 8000, path: path, node: "serve.thisnode0001")
        let orphan = try f.catalog.createRecording(callID: f.callID, track: .bot, codec: .pcm16, sampleRate: 8000, path: path)
        let recovery = RecordingRecovery(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
        let nodes = ServeNodes(leases: leases, this: "serve.thisnode0001")

        let first = try await recovery.recoverAbandoned(sparing: nodes)
        let liveNow = try await nodes.isAlive(live)
        // Only what finished inside the lease can be asserted (a loaded machine may take longer).
        if clock.now < askedAt + leaseTime {
            #expect(first.map(\.recordingID) == [orphan.id], "only the recording of no node")
            #expect(try f.catalog.recording(id: owned.id).state == .recording)
            #expect(liveNow)
        }
        #expect(try await nodes.isAlive("serve.thisnode0001"))

        try await clock.sleep(until: acquiredBy + leaseTime + .milliseconds(300))
        #expect(try await !nodes.isAlive(live), "its lease ran out")
        let second = try await recovery.recoverAbandoned(sparing: nodes)
        #expect((first + second).map(\.recordingID).sorted() == [orphan.id, owned.id].sorted(), "the gone node's, never this node's own")
        #expect(try f.catalog.recording(id: owned.id).state == .interrupted)
        #expect(try f.catalog.recording(id: mine.id).state == .recording)
        #expect(try await recovery.recoverAbandoned(sparing: nodes).isEmpty, "nothing twice")
        #expect(try f.catalog.auditLog.verify().isIntact)
    }
}
