import CallVaultArchive
import CallVaultAudio
import CallVaultStore
import Foundation
import GRDB
import Logging
import CallVaultTestSupport
import Testing

@testable import CallVaultRecorder

/// A consent decision takes effect only once its evidence is stored; when the catalog cannot store it,
/// the recorder fails closed: it records less, never more (GDPR Art. 7(1)).
@Suite("Call recorder: evidence before consent")
struct EvidenceFirstTests {
    /// A fixture whose catalog gives up on a held write lock after 0.2 s instead of 10 s.
    private func fixture() throws -> (RecorderFixture, Catalog) {
        let fixture = try RecorderFixture()
        let catalog = try Catalog(directory: fixture.directory.path, busyTimeout: 0.2)
        return (fixture, catalog)
    }

    private func recorder(_ fixture: RecorderFixture, _ catalog: Catalog, policy: ConsentPolicy) -> CallRecorder {
        CallRecorder(
            callID: fixture.callID, settings: .init(policy: policy, storageCodec: .pcm16), catalog: catalog,
            keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil, logger: Logger(label: "test"))
    }

    /// Sends caller frames `range`, each carrying its index in its first sample.
    private func send(_ range: Range<Int>, to recorder: CallRecorder, ring: FrameRing) throws {
        for index in range {
            let frame = ring.next(timestampMs: Int64(index) * 20)
            for i in 0..<frame.samples.count { frame.samples[i] = i == 0 ? Int16(index) : 1000 }
            try recorder.receive(frame, track: .caller)
        }
    }

    private func writtenFrames(_ fixture: RecorderFixture, _ recorder: CallRecorder) async throws -> [Int] {
        guard let id = recorder.recordingIDs[.caller] else { return [] }
        let export = try await RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format
        ).export(recordingID: id, actor: "test")
        return stride(from: 0, to: export.samples.count, by: 160).compactMap { start in
            export.samples[start + 1] == 1000 ? Int(export.samples[start]) : nil
        }
    }

    @Test func aConsentWhoseEvidenceCannotBeStoredRecordsNothingUntilOneIsStored() async throws {
        let (fixture, catalog) = try fixture()
        let recorder = recorder(fixture, catalog, policy: ConsentPolicy(mode: .optIn, consentDigit: .one))
        let ring = FrameRing(sampleRate: .hz8000)
        try send(0..<50, to: recorder, ring: ring)
        let lock = try CatalogWriteLock(path: catalog.path)
        let error = #expect(throws: RecorderError.self) { try recorder.apply(digit: .one, atMs: 1000) }
        #expect(error?.code == .evidenceNotStored)
        #expect(error?.message.contains("could not be stored") == true)
        #expect(!recorder.admits && recorder.gate.phase == .waiting && recorder.evidenceFailures == 1)
        try send(50..<150, to: recorder, ring: ring)
        try lock.release()
        #expect(recorder.recordingIDs.isEmpty, "no file may exist while no consent is stored")
        try recorder.apply(digit: .one, atMs: 3000)
        #expect(recorder.admits)
        try send(150..<200, to: recorder, ring: ring)
        try recorder.finish(atMs: 4000)
        #expect(try await writtenFrames(fixture, recorder) == Array(150..<200))
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.consent] && events[0].timelineMs == 3000)
    }

    @Test func aRevokeWhoseEvidenceCannotBeStoredStopsAtOnceAndIsStoredLater() async throws {
        let (fixture, catalog) = try fixture()
        let recorder = recorder(fixture, catalog, policy: ConsentPolicy(mode: .optIn))
        let ring = FrameRing(sampleRate: .hz8000)
        try recorder.apply(.consent, method: .api, atMs: 0)
        try send(0..<50, to: recorder, ring: ring)
        let lock = try CatalogWriteLock(path: catalog.path)
        let error = #expect(throws: RecorderError.self) { try recorder.apply(.revoke, method: .api, atMs: 1000) }
        #expect(error?.code == .evidenceNotStored)
        #expect(!recorder.admits && recorder.gate.phase == .stopped)
        try send(50..<100, to: recorder, ring: ring)
        try lock.release()
        // The next event's transaction carries the revoke's evidence first.
        try recorder.apply(.consent, method: .api, atMs: 2000)
        try send(100..<120, to: recorder, ring: ring)
        try recorder.finish(atMs: 2400)
        #expect(try await writtenFrames(fixture, recorder) == Array(0..<50) + Array(100..<120))
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.consent, .revoke, .consent])
        #expect(events.map(\.timelineMs) == [0, 1000, 2000])
    }

    @Test func aPauseWhoseEvidenceCannotBeStoredStillWithholdsTheCardNumber() async throws {
        let (fixture, catalog) = try fixture()
        let recorder = recorder(fixture, catalog, policy: ConsentPolicy(mode: .notRequired))
        let ring = FrameRing(sampleRate: .hz8000)
        try send(0..<50, to: recorder, ring: ring)
        let lock = try CatalogWriteLock(path: catalog.path)
        #expect(throws: RecorderError.self) { try recorder.apply(.pause, method: .api, atMs: 1000) }
        try send(50..<80, to: recorder, ring: ring)
        // The resume's evidence cannot be stored either: the call stays silent.
        #expect(throws: RecorderError.self) { try recorder.apply(.resume, method: .api, atMs: 1600) }
        try send(80..<90, to: recorder, ring: ring)
        try lock.release()
        try recorder.apply(.resume, method: .api, atMs: 1800)
        try send(90..<100, to: recorder, ring: ring)
        try recorder.finish(atMs: 2000)
        #expect(try await writtenFrames(fixture, recorder) == Array(0..<50) + Array(90..<100))
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.pause, .resume])
        let spans = try fixture.catalog.pausedSpans(callID: fixture.callID)
        #expect(spans.map(\.startMs) == [1000] && spans.map(\.endMs) == [1800])
    }

    @Test func aFailedWriteWhileRecordingHoldsTheAudioUntilALaterEventIsStored() async throws {
        let (fixture, catalog) = try fixture()
        let recorder = recorder(fixture, catalog, policy: ConsentPolicy(mode: .optIn))
        let ring = FrameRing(sampleRate: .hz8000)
        try recorder.apply(.consent, method: .api, atMs: 0)
        try send(0..<20, to: recorder, ring: ring)
        let lock = try CatalogWriteLock(path: catalog.path)
        #expect(throws: RecorderError.self) { try recorder.apply(.disclosure, method: .api, atMs: 400) }
        #expect(recorder.heldForEvidence && !recorder.admits)
        try send(20..<40, to: recorder, ring: ring)
        try lock.release()
        try recorder.apply(.disclosure, method: .api, atMs: 800)
        try send(40..<60, to: recorder, ring: ring)
        try recorder.finish(atMs: 1200)
        #expect(try await writtenFrames(fixture, recorder) == Array(0..<20) + Array(40..<60))
    }

    @Test func storedEventsThatCannotBeReadRefuseTheStream() throws {
        let fixture = try RecorderFixture()
        let recorder = recorder(fixture, fixture.catalog, policy: ConsentPolicy(mode: .optOut))
        // A damaged catalog: the consent events cannot be read at all.
        let other = try DatabaseQueue(path: fixture.catalog.path)
        try other.write { db in try db.execute(sql: "ALTER TABLE consent_events RENAME TO consent_events_lost") }
        let error = #expect(throws: RecorderError.self) { try recorder.replayStoredEvents() }
        #expect(error?.code == .catalogFailed)
    }

    @Test func storedEventsAreReplayedAndRefusedOnesSkipped() throws {
        let fixture = try RecorderFixture()
        try fixture.catalog.recordConsentEvent(callID: fixture.callID, kind: .resume, method: .api)
        try fixture.catalog.recordConsentEvent(callID: fixture.callID, kind: .consent, method: .api)
        let recorder = recorder(fixture, fixture.catalog, policy: ConsentPolicy(mode: .optIn))
        try recorder.replayStoredEvents()
        #expect(recorder.admits && recorder.gate.phase == .recording)
    }
}
