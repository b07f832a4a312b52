import CallVaultCrypto
import CallVaultRecorder
import CallVaultStore
import Foundation
import Testing

/// A recording cut by a crash goes on in a new part file; the whole recording verifies as one.
@Suite struct RecordingContinuationTests {
    @Test func continuesInANewPartAfterATornTail() throws {
        let f = try RecorderFixture()
        let first = RecorderFixture.bytes(RecorderFixture.tone(seconds: 2))
        let second = RecorderFixture.bytes(RecorderFixture.tone(seconds: 3, offset: 16_000))
        var recordingID = ""
        var part0 = ""
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
            part0 = writer.filePath
            for s in 0..<2 {
                try first[(s * 16_000)..<((s + 1) * 16_000)].withUnsafeBytes {
                    try writer.append(segment: $0, frameCount: 50)
                }
            }
            try writer.sync()
        }
        RecorderFixture.appendRaw([0, 0, 0x3E, 0x80, 0, 0, 0, 2, 0, 1, 2, 3], to: part0)  // torn third segment

        let group = FlushGroup()
        let continued = try RecordingWriter(
            continuing: recordingID,
            catalog: f.catalog,
            keyStore: f.keyStore,
            dataDirectory: f.directory,
            flushGroup: group
        )
        #expect(continued.filePath == RecordingFiles.partPath(firstPart: part0, part: 1))
        #expect(continued.durationMs == 2000)
        #expect(continued.segmentCount == 2)
        for s in 0..<3 {
            try second[(s * 16_000)..<((s + 1) * 16_000)].withUnsafeBytes {
                try continued.append(segment: $0, frameCount: 50)
            }
        }
        #expect(group.flushNow() == 1)
        try continued.finish()

        let row = try f.catalog.recording(id: recordingID)
        #expect(row.state == .complete)
        #expect(row.durationMs == 5000)
        let parts = RecordingFiles.existingParts(firstPart: part0)
        #expect(parts.count == 2)
        let sizes = try parts.map { try #require(try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        #expect(row.bytes == Int64(sizes.reduce(0, +)))
        let key = try f.keyStore.dataKey(ownerID: recordingID, tenantID: f.tenantID)
        let verified = SealedRecordingVerifier.verify(
            partPaths: parts,
            dataKey: key,
            expectedTenantID: f.tenantID,
            expectedRecordingID: recordingID
        )
        #expect(verified.status == .ok)
        let exported = try RecordingExporter(catalog: f.catalog, keyStore: f.keyStore, dataDirectory: f.directory)
            .export(recordingID: recordingID, actor: "test")
        #expect(RecorderFixture.bytes(exported.samples) == first + second)
        #expect(exported.isComplete)
    }

    @Test func aFinishedRecordingDoesNotContinue() throws {
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
        try writer.finish()
        let error = #expect(throws: RecorderError.self) {
            try RecordingWriter(
                continuing: writer.recording.id,
                catalog: f.catalog,
                keyStore: f.keyStore,
                dataDirectory: f.directory
            )
        }
        #expect(error?.code == .invalidArgument)
        #expect(RecordingFiles.existingParts(firstPart: writer.filePath).count == 1)
    }
}
