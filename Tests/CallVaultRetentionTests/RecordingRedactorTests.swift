import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultRetention

/// Audio redaction (issue 17): a call's recordings re-sealed with spans silent under fresh keys, checked,
/// and the originals crypto-shredded. Real recorder, real sealed files, real codecs (libopus, G.711).
@Suite("Audio redaction: spans silenced in a re-sealed copy, the original shredded after the check")
struct RecordingRedactorTests {
    /// Spoken audio on both tracks of a call, stored in `codec` through the real recorder.
    static func recordCall(_ fixture: RetentionFixture, codec: StorageCodec, seconds: Int = 6) throws -> String {
        let speech = try AudioFileReader(path: Repository.sample("answer.ulaw.wav")).readAllMono()
        let callID = try fixture.catalog.registerCall(tenantID: fixture.tenantID, externalID: "CA-\(UUID())").id
        let recorder = CallRecorder(
            callID: callID, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: codec),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let frames = seconds * 50
        for index in 0..<frames {
            for track in [RecordingTrack.caller, .bot] {
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<160 {
                    // Loud enough everywhere that a span left unsilenced is obvious.
                    let at = (index * 160 + i + (track == .bot ? 4_000 : 0)) % speech.count
                    frame.samples[i] = speech[at] == 0 ? 1_000 : speech[at]
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        return callID
    }

    static func redactor(_ fixture: RetentionFixture) -> RecordingRedactor {
        RecordingRedactor(
            catalog: fixture.catalog, keyStore: fixture.keyStore, files: SealedFiles(dataDirectory: fixture.directory),
            logger: Logger(label: "test"), actor: "test")
    }

    /// A recording's samples on the call's timeline, through the export door (audited like any decryption).
    static func samples(_ fixture: RetentionFixture, _ recording: RecordingRecord) async throws -> [Int16] {
        let exporter = RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format)
        return try await exporter.export(recordingID: recording.id, actor: "test", onTimeline: true).samples
    }

    static let requests = [
        AudioRedactionPlan.Request(startMs: 1_000, endMs: 2_200, kind: "cardNumber"),
        AudioRedactionPlan.Request(startMs: 2_500, endMs: 2_700, kind: "securityCode"),
        AudioRedactionPlan.Request(startMs: 4_000, endMs: 4_400, kind: "email"),
    ]

    @Test("the plan pads by 250 ms and merges spans closer than 250 ms", arguments: [0])
    func plan(_: Int) {
        let plan = AudioRedactionPlan(Self.requests)
        #expect(
            plan.spans == [
                .init(startMs: 750, endMs: 2_950, kinds: ["cardNumber", "securityCode"]),
                .init(startMs: 3_750, endMs: 4_650, kinds: ["email"]),
            ])
        #expect(AudioRedactionPlan([.init(startMs: 100, endMs: 200, kind: "email")]).spans.first?.startMs == 0)
        #expect(plan.covers([.init(startMs: 800, endMs: 2_900, kinds: [])]))
        #expect(!plan.covers([.init(startMs: 700, endMs: 900, kinds: [])]))
    }

    @Test("both tracks are silenced over the spans, unchanged elsewhere, and the originals shredded",
          arguments: [StorageCodec.g711u, .g711a, .pcm16, .opus])
    func redactsBothTracks(codec: StorageCodec) async throws {
        let fixture = try RetentionFixture()
        let callID = try Self.recordCall(fixture, codec: codec)
        let originals = try fixture.catalog.recordings(inCalls: [callID])
        #expect(originals.count == 2)
        var before: [RecordingTrack: [Int16]] = [:]
        for recording in originals { before[recording.track] = try await Self.samples(fixture, recording) }

        let report = try await Self.redactor(fixture).redact(
            callID: callID, requests: Self.requests, detectorVersion: "test-1")
        #expect(report.redacted.count == 2)
        #expect(report.failed.isEmpty && report.skipped.isEmpty)

        let after = try fixture.catalog.recordings(inCalls: [callID])
        let plan = AudioRedactionPlan(Self.requests)
        for original in originals {
            let gone = try #require(after.first { $0.id == original.id })
            #expect(gone.state == .shredded)
            #expect(throws: KeyStoreError.self) { try fixture.keyStore.dataKey(ownerID: original.id, tenantID: original.tenantId) }
            #expect(!FileManager.default.fileExists(atPath: fixture.directory.resolve(original.path)))
            let copy = try #require(after.first { $0.redactedFrom == original.id })
            #expect(copy.state == .complete)
            #expect(copy.track == original.track && copy.codec == codec)
            #expect(copy.durationMs == original.durationMs && copy.expiresAt == original.expiresAt)
            #expect(copy.redaction?.verification == .passed)
            #expect(copy.redaction?.spans == plan.spans)
            let redacted = try await Self.samples(fixture, copy)
            let original = try #require(before[original.track])
            #expect(redacted.count == original.count)
            var loudInSpan = 0
            var changedOutside = 0
            for (index, sample) in redacted.enumerated() {
                let ms = Int64(index) * 1000 / 8000
                if let span = plan.spans.first(where: { $0.startMs <= ms && ms < $0.endMs }) {
                    // Opus rings down for a few milliseconds at a span's start; the rest is silence.
                    let settled = codec != .opus || ms - span.startMs >= 60
                    let limit = codec == .opus ? 16 : codec == .g711a ? 8 : 0
                    if settled && abs(Int(sample)) > limit { loudInSpan += 1 }
                } else if codec != .opus && sample != original[index] {
                    changedOutside += 1
                }
            }
            #expect(loudInSpan == 0)
            #expect(changedOutside == 0)
            if codec == .opus {
                // Outside the spans the same packets decode to (nearly) the same audio: compare energy a
                // second after the last span, where the decoder has long caught up.
                let start = 5_500 * 8
                let a = original[start..<(start + 1_600)].map { abs(Int($0)) }.reduce(0, +)
                let b = redacted[start..<(start + 1_600)].map { abs(Int($0)) }.reduce(0, +)
                #expect(a > 0 && abs(a - b) * 10 < a)
            }
        }
        // Audited with counts and kinds, never a value.
        let entries = try fixture.catalog.auditLog.entries().filter { $0.action == .recordingRedacted }
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { $0.details.contains("\"kinds\":\"cardNumber,email,securityCode\"") && $0.details.contains("\"spans\":\"2\"") })
        let shredded = try fixture.catalog.auditLog.entries().filter { $0.action == .recordingShredded }
        #expect(shredded.count == 2 && shredded.allSatisfy { $0.details.contains("\"reason\":\"redacted\"") })

        // Again with the same spans: nothing to do. With one more span: the copy is redacted again.
        let again = try await Self.redactor(fixture).redact(callID: callID, requests: Self.requests, detectorVersion: "test-1")
        #expect(again.redacted.isEmpty && again.unchanged.count == 2)
        let more = try await Self.redactor(fixture).redact(
            callID: callID, requests: [.init(startMs: 5_400, endMs: 5_600, kind: "phoneNumber")],
            detectorVersion: "test-1")
        #expect(more.redacted.count == 2)
        let latest = try fixture.catalog.recordings(inCalls: [callID]).filter { $0.state != .shredded }
        #expect(latest.count == 2)
        #expect(latest.allSatisfy { $0.redaction?.spans.count == 3 })
    }

    @Test("a recording under legal hold or restricted is left as it is and reported")
    func heldAndRestricted() async throws {
        let fixture = try RetentionFixture()
        let callID = try Self.recordCall(fixture, codec: .g711u, seconds: 3)
        let recordings = try fixture.catalog.recordings(inCalls: [callID])
        let held = try #require(recordings.first { $0.track == .caller })
        let restricted = try #require(recordings.first { $0.track == .bot })
        _ = try await LegalHold(catalog: fixture.catalog, keyStore: fixture.keyStore).set(
            recordingID: held.id, reason: "case 7", actor: "test")
        try fixture.catalog.setRestricted(recordingID: restricted.id, true, reason: "subject asked")
        let report = try await Self.redactor(fixture).redact(
            callID: callID, requests: [.init(startMs: 500, endMs: 900, kind: "email")], detectorVersion: "test-1")
        #expect(report.redacted.isEmpty)
        #expect(Set(report.skipped.map(\.recording)) == [held.id, restricted.id])
        let after = try fixture.catalog.recordings(inCalls: [callID])
        #expect(after.count == 2 && after.allSatisfy { $0.state == .complete })
    }

    @Test("a call still being recorded is refused with a clear error")
    func openCall() async throws {
        let fixture = try RetentionFixture()
        let callID = try fixture.catalog.registerCall(tenantID: fixture.tenantID, externalID: "CA-open").id
        _ = try fixture.catalog.createRecording(
            callID: callID, track: .caller, codec: .g711u, sampleRate: 8000, path: "recordings/x.cvr")
        await #expect {
            try await Self.redactor(fixture).redact(
                callID: callID, requests: [.init(startMs: 0, endMs: 100, kind: "email")], detectorVersion: "t")
        } throws: { error in
            (error as? RetentionError)?.code == .invalidState && "\(error)".contains("still being recorded")
        }
    }

    @Test("a copy a crash left pending is destroyed and redone; the original is never lost")
    func crashLeftovers() async throws {
        let fixture = try RetentionFixture()
        let callID = try Self.recordCall(fixture, codec: .g711u, seconds: 3)
        let original = try #require(try fixture.catalog.recordings(inCalls: [callID]).first { $0.track == .caller })
        // What a crash after the copy's row was written leaves: a pending copy, the original intact.
        let stale = try fixture.catalog.createRedactedRecording(
            originalID: original.id, id: "stale-copy", path: "recordings/stale.cvr", storage: nil,
            redaction: RecordingRedaction(detectorVersion: "t", paddingMs: 250, spans: []))
        #expect(stale.state == .recording && stale.redaction?.verification == .pending)
        let report = try await Self.redactor(fixture).redact(
            callID: callID, requests: [.init(startMs: 500, endMs: 900, kind: "email")], detectorVersion: "t")
        #expect(report.redacted.count == 2)
        let after = try fixture.catalog.recordings(inCalls: [callID])
        #expect(after.first { $0.id == "stale-copy" }?.state == .shredded)
        #expect(after.filter { $0.state != .shredded }.allSatisfy { $0.redaction?.verification == .passed })
    }
}
