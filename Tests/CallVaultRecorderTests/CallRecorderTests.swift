import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import Foundation
import Logging
import Testing

@testable import CallVaultRecorder

/// The recorder driven in-process with frames whose first sample carries their index, so the
/// export shows exactly which frames were written.
@Suite("Call recorder: consent first, end to end in process")
struct CallRecorderTests {
    /// Drives one call: `frames` caller frames (and bot frames when `bot`), applying `events` before
    /// the frame whose index they name; returns the recorder after `finish`.
    private func run(
        _ fixture: RecorderFixture, policy: ConsentPolicy, frames: Int, bot: Bool = false,
        events: [Int: [ConsentEventKind]] = [:], tone: (digit: DTMFDigit, atFrame: Int)? = nil, toneAgainAt: Int? = nil
    ) throws -> CallRecorder {
        let recorder = CallRecorder(
            callID: fixture.callID, settings: .init(policy: policy, storageCodec: .pcm16), catalog: fixture.catalog,
            keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let dtmf = tone.map { ToneSource(digit: $0.digit) }
        for index in 0..<frames {
            for kind in events[index] ?? [] { try recorder.apply(kind, method: .api, atMs: Int64(index) * 20) }
            for track in bot ? [RecordingTrack.caller, .bot] : [.caller] {
                let frame = ring.next(timestampMs: Int64(index) * 20)
                let toneFrames = [tone?.atFrame, toneAgainAt].compactMap { $0 }
                if let dtmf, track == .caller, toneFrames.contains(where: { ($0..<($0 + 5)).contains(index) }) {
                    dtmf.fill(frame.samples, frameIndex: index)
                } else {
                    for i in 0..<frame.samples.count { frame.samples[i] = i == 0 ? Int16(index) : 1000 }
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        return recorder
    }

    /// The frame indices found in a recording's export (first sample of each frame of speech).
    private func writtenFrames(_ fixture: RecorderFixture, _ recorder: CallRecorder, track: RecordingTrack = .caller)
        async throws -> [Int]
    {
        guard let id = recorder.recordingIDs[track] else { return [] }
        let exporter = RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format)
        let export = try await exporter.export(recordingID: id, actor: "test")
        #expect(export.isComplete)
        return stride(from: 0, to: export.samples.count, by: 160).compactMap { start in
            export.samples[start + 1] == 1000 ? Int(export.samples[start]) : nil
        }
    }

    @Test func optInWithConsentAfterThreeSecondsKeepsOnlyWhatFollowed() async throws {
        let fixture = try RecorderFixture()
        let recorder = try run(fixture, policy: ConsentPolicy(mode: .optIn), frames: 400, events: [150: [.consent]])
        #expect(try await writtenFrames(fixture, recorder) == Array(150..<400))
        #expect(recorder.framesDropped == 150)
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.consent] && events[0].timelineMs == 3000)
        let audit = try fixture.catalog.auditLog.entries().map(\.action)
        #expect(audit.contains(.consentEvent))
    }

    @Test func optInWithoutConsentLeavesNoRecordingAtAll() throws {
        let fixture = try RecorderFixture()
        let recorder = try run(fixture, policy: ConsentPolicy(mode: .optIn), frames: 200, events: [10: [.disclosure]])
        #expect(recorder.recordingIDs.isEmpty)
        #expect(try fixture.catalog.recordingSummaries(callID: fixture.callID).isEmpty)
        let files = FileManager.default.enumerator(atPath: fixture.directory.recordingsPath)?.allObjects ?? []
        #expect(!files.contains { "\($0)".hasSuffix(".cvr") })
    }

    @Test func revokeMidCallStopsAtTheNextFrame() async throws {
        let fixture = try RecorderFixture()
        let recorder = try run(
            fixture, policy: ConsentPolicy(mode: .optIn), frames: 300, events: [20: [.consent], 170: [.revoke]])
        #expect(try await writtenFrames(fixture, recorder) == Array(20..<170))
    }

    @Test func pauseAndResumeWithholdTheCardNumberAndRecordTheSpan() async throws {
        let fixture = try RecorderFixture()
        let recorder = try run(
            fixture, policy: ConsentPolicy(mode: .notRequired), frames: 300, events: [100: [.pause], 180: [.resume]])
        #expect(try await writtenFrames(fixture, recorder) == Array(0..<100) + Array(180..<300))
        let spans = try fixture.catalog.pausedSpans(callID: fixture.callID)
        #expect(spans.count == 1 && spans[0].startMs == 2000 && spans[0].endMs == 3600)
    }

    @Test func aConsentToneInTheCallersAudioStartsRecordingAfterIt() async throws {
        let fixture = try RecorderFixture()
        let policy = ConsentPolicy(mode: .optIn, consentDigit: .one)
        let recorder = try run(fixture, policy: policy, frames: 300, tone: (.one, 100))
        let written = try await writtenFrames(fixture, recorder)
        let first = try #require(written.first)
        // The tone is 100 ms from frame 100; Q.24 detection needs ≥ 40 ms of it.
        #expect((101...105).contains(first), "recording started at frame \(first)")
        #expect(written == Array(first..<300).filter { !(100..<105).contains($0) })
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.consent] && events[0].method == .dtmf)
    }

    @Test func framesSkipKeyDetectionOnceNoKeyCanDecideAnything() async throws {
        // Only a consent digit: once its tone consented, frames skip the detector.
        let consentOnly = try RecorderFixture()
        let a = try run(consentOnly, policy: ConsentPolicy(mode: .optIn, consentDigit: .one), frames: 300, tone: (.one, 100))
        // The key decides at the end of the frame that confirmed it: frames 0 up to that one were scanned.
        let consent = try #require(try consentOnly.catalog.consentEvents(callID: consentOnly.callID).first)
        #expect(consent.kind == .consent && consent.method == .dtmf)
        let decided = Int(try #require(consent.timelineMs) / 20)
        #expect((101...105).contains(decided))
        #expect(a.framesScannedForKeys == decided, "decided after frame \(decided - 1); \(a.framesScannedForKeys) scanned")
        // An opt-out digit can always decide (deny or revoke): every caller frame is scanned.
        let withOptOut = try RecorderFixture()
        let b = try run(
            withOptOut, policy: ConsentPolicy(mode: .optIn, consentDigit: .one, optOutDigit: .nine), frames: 300,
            tone: (.one, 100))
        #expect(b.framesScannedForKeys == 300)
        // No digits at all: the detector never runs.
        let noDigits = try RecorderFixture()
        let c = try run(noDigits, policy: ConsentPolicy(mode: .notRequired), frames: 100)
        #expect(c.framesScannedForKeys == 0)
    }

    @Test func keyDetectionResumesWhenARevokeLetsTheConsentKeyDecideAgain() async throws {
        let fixture = try RecorderFixture()
        let recorder = try run(
            fixture, policy: ConsentPolicy(mode: .optIn, consentDigit: .one), frames: 300, events: [150: [.revoke]],
            tone: (.one, 100), toneAgainAt: 200)
        let written = try await writtenFrames(fixture, recorder)
        let events = try fixture.catalog.consentEvents(callID: fixture.callID)
        #expect(events.map(\.kind) == [.consent, .revoke, .consent])
        let first = Int(try #require(events[0].timelineMs) / 20)
        let again = Int(try #require(events.last?.timelineMs) / 20)
        #expect((201...205).contains(again), "recording resumed at frame \(again)")
        #expect(written == (Array(first..<150) + Array(again..<300)).filter { !(100..<105).contains($0) && !(200..<205).contains($0) })
        // Scanned: until the first consent, then from the revoke until the second.
        #expect(recorder.framesScannedForKeys == first + (again - 150))
    }

    @Test func optOutRecordsAfterTheDisclosureAndNotRequiredRecordsEverything() async throws {
        let optOut = try RecorderFixture()
        let a = try run(optOut, policy: ConsentPolicy(mode: .optOut), frames: 100, events: [30: [.disclosure], 80: [.deny]])
        #expect(try await writtenFrames(optOut, a) == Array(30..<80))
        let free = try RecorderFixture()
        let b = try run(free, policy: ConsentPolicy(mode: .notRequired), frames: 100)
        #expect(try await writtenFrames(free, b) == Array(0..<100))
    }

    @Test func refusedEventsAreReportedAndChangeNothing() throws {
        let fixture = try RecorderFixture()
        let recorder = CallRecorder(
            callID: fixture.callID, settings: .init(policy: ConsentPolicy(mode: .optIn, requireDisclosure: true), storageCodec: .pcm16),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        #expect(throws: RecorderError.self) { try recorder.apply(.consent, method: .api, atMs: 0) }
        #expect(recorder.eventsRefused == 1 && !recorder.gate.admits)
        #expect(try fixture.catalog.consentEvents(callID: fixture.callID).isEmpty)
    }

    @Test func bothTracksOfALongCallStayAligned() throws {
        let fixture = try RecorderFixture()
        // 30 minutes of both tracks; the bot misses 3 frames in the middle (filled with silence).
        let recorder = CallRecorder(
            callID: fixture.callID,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .g711u, detectInBandDTMF: false),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let frames = 30 * 60 * 50
        for index in 0..<frames {
            for track in [RecordingTrack.caller, .bot] {
                if track == .bot && (40_000..<40_003).contains(index) { continue }
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<frame.samples.count { frame.samples[i] = 500 }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        let recordings = try fixture.catalog.recordingSummaries(callID: fixture.callID)
        #expect(recordings.count == 2)
        let durations = recordings.map(\.durationMs)
        #expect(durations.allSatisfy { abs($0 - Int64(frames) * 20) <= 20 }, "durations \(durations)")
    }

    @Test func opusStorageRecordsAboutFourTimesSmallerAndExportsTheAudio() async throws {
        let fixture = try RecorderFixture()
        let recorder = CallRecorder(
            callID: fixture.callID,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .opus, detectInBandDTMF: false),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        for index in 0..<250 {
            let frame = ring.next(timestampMs: Int64(index) * 20)
            for i in 0..<160 {
                frame.samples[i] = Int16(8000 * sin(2 * .pi * 440 * Double(index * 160 + i) / 8000))
            }
            try recorder.receive(frame, track: .caller)
        }
        try recorder.finish(atMs: 5000)
        let summary = try #require(try fixture.catalog.recordingSummaries(callID: fixture.callID).first)
        #expect(summary.codec == .opus && summary.durationMs == 5000)
        // 5 s of μ-law would be 40,000 bytes; 16 kb/s Opus is about 10,000 plus framing.
        #expect(summary.bytes < 16_000, "\(summary.bytes) bytes for 5 s")
        let export = try await RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format
        ).export(recordingID: try #require(recorder.recordingIDs[.caller]), actor: "test", onTimeline: true)
        #expect(export.samples.count == 40_000)
        let tail = export.samples[20_000...].map { Double($0) }
        let rms = (tail.reduce(0) { $0 + $1 * $1 } / Double(tail.count)).squareRoot()
        #expect(rms > 4000 && rms < 7000, "a 440 Hz tone at 8000 peak has RMS ≈ 5657; Opus gave \(rms)")
    }
}


/// A DTMF key as two sines at −10 dBm0 each, continuous across frames.
final class ToneSource {
    let low: Double
    let high: Double
    init(digit: DTMFDigit) {
        low = DTMFDigit.rowFrequencies[digit.row]
        high = DTMFDigit.columnFrequencies[digit.column]
    }

    func fill(_ samples: UnsafeMutableBufferPointer<Int16>, frameIndex: Int) {
        for i in 0..<samples.count {
            let t = Double(frameIndex * samples.count + i) / 8000
            let value = 5000 * (sin(2 * .pi * low * t) + sin(2 * .pi * high * t))
            samples[i] = Int16(value)
        }
    }
}
