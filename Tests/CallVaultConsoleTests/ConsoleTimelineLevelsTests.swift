import CallVaultArchive
import CallVaultAudio
import CallVaultConsole
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import Testing

/// The call page's level bands and segment ticks, read from the rendered SVG of calls recorded by the
/// real recorder: loud and silent seconds show where they are on each track, ticks sit at the sealed
/// segments' starts, restricted and shredded recordings show no levels and say why, and nothing of it
/// is audited as a decryption or shown across tenants.
@Suite struct ConsoleTimelineLevelsTests {
    /// Records `frames` 20 ms frames per track on `call`; `loud(track, frame)` picks a 440 Hz tone at
    /// half scale (else digital silence). Returns the recorder's settings' segment length in frames.
    static func record(
        _ call: CallRecord, in fixture: ConsoleFixture, frames: Int, framesPerSegment: Int = 50, codec: StorageCodec = .pcm16,
        events: [(atFrame: Int, kind: ConsentEventKind)] = [], loud: (RecordingTrack, Int) -> Bool
    ) throws {
        let recorder = CallRecorder(
            callID: call.id,
            settings: .init(
                policy: ConsentPolicy(mode: .notRequired), storageCodec: codec, framesPerSegment: framesPerSegment,
                detectInBandDTMF: false),
            catalog: fixture.data.catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory,
            flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        for frameIndex in 0..<frames {
            for event in events where event.atFrame == frameIndex {
                try recorder.apply(event.kind, method: .api, atMs: Int64(frameIndex) * 20)
            }
            for track in [RecordingTrack.caller, .bot] {
                let frame = ring.next(timestampMs: Int64(frameIndex) * 20)
                let on = loud(track, frameIndex)
                for i in 0..<160 {
                    frame.samples[i] = on ? Int16(16000 * sin(Double(frameIndex * 160 + i) * 2 * .pi * 440 / 8000)) : 0
                }
                _ = try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
    }

    /// One drawn level band: where it starts (ms), its level and its height in the picture.
    struct Band: Equatable {
        let ms: Int64
        let dBFS: Double
        let height: Double
    }

    /// The `<g class="NAME" data-track="TRACK" …>` group of the page's SVG, or nil.
    static func group(_ page: String, _ name: String, track: RecordingTrack) -> String? {
        guard let start = page.range(of: "<g class=\"\(name)\" data-track=\"\(track.rawValue)\"") else { return nil }
        let rest = page[start.lowerBound...]
        guard let end = rest.range(of: "</g>") else { return nil }
        return String(rest[..<end.upperBound])
    }

    /// The value of `name="…"` in one element's text.
    static func attribute(_ name: String, in element: Substring) -> String? {
        guard let start = element.range(of: " \(name)=\"") else { return nil }
        return String(element[start.upperBound...].prefix { $0 != "\"" })
    }

    static func elements(_ tag: String, in text: String) -> [Substring] {
        text.components(separatedBy: "<\(tag) ").dropFirst().map { Substring($0.prefix { $0 != ">" }) }
    }

    static func bands(_ page: String, track: RecordingTrack) -> [Band] {
        guard let group = group(page, "levels", track: track) else { return [] }
        return elements("rect", in: group).compactMap { rect in
            guard let ms = attribute("data-ms", in: rect).flatMap({ Int64($0) }),
                let dBFS = attribute("data-dbfs", in: rect).flatMap({ Double($0) }),
                let height = attribute("height", in: rect).flatMap({ Double($0) })
            else { return nil }
            return Band(ms: ms, dBFS: dBFS, height: height)
        }
    }

    static func ticks(_ page: String, track: RecordingTrack) -> [Int64] {
        guard let group = group(page, "segments", track: track) else { return [] }
        return elements("line", in: group).compactMap { attribute("data-ms", in: $0).flatMap { Int64($0) } }
    }

    @Test(arguments: [StorageCodec.pcm16, .g711u, .opus])
    func aLoudSecondAndASilentOneShowWhereTheyAreOnEachTrack(codec: StorageCodec) async throws {
        let fixture = try ConsoleFixture("console-levels-\(codec.rawValue)")
        // The caller speaks in the first second, the bot in the second.
        try Self.record(fixture.callA, in: fixture, frames: 100, codec: codec) { track, frame in
            track == .caller ? frame < 50 : frame >= 50
        }
        try fixture.data.catalog.endCall(id: fixture.callA.id, at: fixture.callA.startedAt.addingTimeInterval(2))
        // Every role that opens the call page sees the levels: here the viewer.
        let (_, cookies) = await fixture.signIn("victor")
        let response = await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies)
        let page = ConsoleFixture.text(response)
        #expect(response.status == 200)
        let caller = Self.bands(page, track: .caller)
        let bot = Self.bands(page, track: .bot)
        #expect(caller.count == 20 && bot.count == 20, "100 ms buckets over 2 s: \(caller.count), \(bot.count)")
        for (track, bands, loudFirst) in [(RecordingTrack.caller, caller, true), (.bot, bot, false)] {
            // Opus's encoder delay and attack smear the switch over the buckets beside it.
            for band in bands where codec != .opus || abs(band.ms - 950) > 100 {
                let inFirst = band.ms < 1000
                if inFirst == loudFirst {
                    // A half-scale sine: −6.2 dBFS peak, −9.2 dBFS RMS (G.711 and Opus within a dB or two).
                    #expect(band.dBFS > -12 && band.dBFS < -6 && band.height > 30, "\(codec) \(track) loud at \(band.ms) ms: \(band)")
                } else if codec == .opus {
                    #expect(band.dBFS < -50 && band.height < 5, "opus \(track) silent at \(band.ms) ms: \(band)")
                } else {
                    #expect(band.dBFS == RecordingLevels.floorDBFS && band.height == 0, "\(codec) \(track) silent at \(band.ms) ms: \(band)")
                }
            }
        }
        // The text alternative says the same, and the picture labels where each recording starts and ends.
        if codec == .pcm16 {
            #expect(page.contains("caller (complete): 2 segments; loudest -9.2 dBFS at 0:00.0"))
            #expect(page.contains("bot (complete): 2 segments; loudest -9.2 dBFS at 0:01.0"))
        }
        #expect(page.contains("<table class=\"levels\">") && page.contains("role=\"img\""))
        #expect(page.contains("caller recording started at") && page.contains("bot recording ended at"))
        // Levels are not a playback: nothing is audited as decrypted, and no audio is offered the viewer.
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .recordingDecrypted })
        #expect(!page.contains("<audio"))
    }

    @Test func segmentTicksSitWhereEachSealedSegmentStarts() async throws {
        let fixture = try ConsoleFixture("console-segments")
        // 3 s in segments of 25 frames (500 ms): six per track, the last one the call's end.
        try Self.record(fixture.callA, in: fixture, frames: 150, framesPerSegment: 25) { _, _ in true }
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        for track in [RecordingTrack.caller, .bot] {
            #expect(Self.ticks(page, track: track) == [0, 500, 1000, 1500, 2000, 2500], "\(track)")
            #expect(Self.group(page, "segments", track: track)?.contains("data-count=\"6\"") == true)
        }
        #expect(page.contains("<table class=\"segments\">") && page.contains("<td>caller</td><td>5</td><td>0:02.5</td><td>0.5 s</td>"))
    }

    @Test func aLongRunOfSegmentsIsTickedOnlyWhereTheAudioResumes() async throws {
        let fixture = try ConsoleFixture("console-segments-thinned")
        // 4 s in 20 ms segments (200 per track), paused from 1 s to 2 s: too many to tick each, so the
        // picture ticks the first segment and the one after the pause.
        try Self.record(
            fixture.callA, in: fixture, frames: 200, framesPerSegment: 1, events: [(50, .pause), (100, .resume)]
        ) { _, _ in true }
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        for track in [RecordingTrack.caller, .bot] {
            let ticks = Self.ticks(page, track: track)
            #expect(ticks.count == 2 && ticks.first == 0, "\(track): \(ticks)")
            #expect(ticks.last.map { $0 >= 2000 && $0 <= 2040 } == true, "\(track) resumes at 2 s: \(ticks)")
            #expect(Self.group(page, "segments", track: track)?.contains("data-count=\"150\"") == true)
            // No level is drawn in the paused second.
            #expect(Self.bands(page, track: track).allSatisfy { $0.ms < 1000 || $0.ms >= 2000 })
        }
        #expect(page.contains("ticks only where the audio resumes after a gap"))
    }

    @Test func restrictedAndShreddedRecordingsShowNoLevelsAndSayWhy() async throws {
        let fixture = try ConsoleFixture("console-levels-withheld")
        try Self.record(fixture.callA, in: fixture, frames: 100) { _, _ in true }
        let recordings = try fixture.data.catalog.recordings(inCalls: [fixture.callA.id])
        let caller = try #require(recordings.first { $0.track == .caller })
        let bot = try #require(recordings.first { $0.track == .bot })
        try fixture.data.catalog.setRestricted(recordingID: caller.id, true, reason: "subject objects", actor: "test", at: Date())
        // The bot's key destroyed (as erasure does before the catalog hears of it).
        try fixture.data.keyStore.destroyDataKey(ownerID: bot.id, tenantID: fixture.tenantA.id)
        let (_, cookies) = await fixture.signIn("ada")
        var page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(Self.bands(page, track: .caller).isEmpty && Self.bands(page, track: .bot).isEmpty)
        #expect(page.contains("caller: restricted (GDPR Art. 18): levels not computed"))
        #expect(page.contains("bot: shredded: keys destroyed, levels cannot be computed"))
        #expect(!page.contains("class=\"level\""))
        // Marked shredded in the catalog: said without asking the key store.
        try fixture.data.catalog.markRecordingShredded(id: bot.id, actor: "test", at: Date())
        page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(page.contains("bot: shredded: keys destroyed, levels cannot be computed"))
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .recordingDecrypted })
    }

    @Test func anotherTenantsCallIsStillNotFound() async throws {
        let fixture = try ConsoleFixture("console-levels-tenants")
        try Self.record(fixture.callB, in: fixture, frames: 50) { _, _ in true }
        for name in ["alice", "victor", "ada"] {
            let (_, cookies) = await fixture.signIn(name)
            let response = await fixture.get("/calls/\(fixture.callB.id)", cookies: cookies)
            #expect(response.status == 404, "\(name)")
            #expect(!ConsoleFixture.text(response).contains("class=\"level\""))
        }
    }
}

extension ConsoleTimelineLevelsTests {
    /// A one-hour call on both tracks (PCM16, 1 s segments): measuring it streams 7,200 segments and keeps
    /// 600 buckets a track; the figure is printed (docs/console.md quotes it).
    @Test func anHourLongTwoTrackCallIsMeasuredInBoundedTime() async throws {
        let fixture = try ConsoleFixture("console-levels-hour")
        let recorder = CallRecorder(
            callID: fixture.callA.id,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16, detectInBandDTMF: false),
            catalog: fixture.data.catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory,
            flushGroup: nil, logger: Logger(label: "test"))
        // 400 Hz at 8 kHz: eight whole periods a frame, so one frame of tone serves every frame.
        let tone = (0..<160).map { Int16(12000 * sin(Double($0) * 2 * .pi * 400 / 8000)) }
        let silence = [Int16](repeating: 0, count: 160)
        let ring = FrameRing(sampleRate: .hz8000)
        let frames = 3600 * 50
        let recordingStarted = ContinuousClock.now
        for frameIndex in 0..<frames {
            // The caller talks in even minutes, the bot in odd ones.
            let callerTalks = (frameIndex / 3000) % 2 == 0
            for track in [RecordingTrack.caller, .bot] {
                let frame = ring.next(timestampMs: Int64(frameIndex) * 20)
                _ = frame.samples.update(fromContentsOf: (track == .caller) == callerTalks ? tone : silence)
                _ = try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        try fixture.data.catalog.endCall(id: fixture.callA.id, at: fixture.callA.startedAt.addingTimeInterval(3600))
        let recorded = ContinuousClock.now - recordingStarted

        let (_, cookies) = await fixture.signIn("victor")
        let started = ContinuousClock.now
        let response = await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies)
        let elapsed = ContinuousClock.now - started
        let page = ConsoleFixture.text(response)
        print("levels: a 1-hour two-track PCM16 call (2 × 3,600 segments) rendered in \(elapsed) (recording it took \(recorded))")
        #expect(response.status == 200)
        let caller = Self.bands(page, track: .caller)
        let group = try #require(Self.group(page, "levels", track: .caller))
        let bucketMs = try #require(Self.attribute("data-bucket-ms", in: Substring(group)).flatMap { Int64($0) })
        // An hour (and the few milliseconds the recording began after the call) in 6 s or 6.1 s buckets.
        #expect(caller.count <= 600 && caller.count >= 590, "\(caller.count) buckets")
        #expect(bucketMs == 6000 || bucketMs == 6100, "\(bucketMs) ms a bucket")
        func band(at ms: Int64) -> Band? { caller.first { $0.ms <= ms && ms < $0.ms + bucketMs } }
        // Minute 0 the caller talks, minute 1 it is silent.
        #expect(band(at: 30_000).map { $0.dBFS > -15 && $0.height > 30 } == true)
        #expect(band(at: 90_000).map { $0.dBFS == RecordingLevels.floorDBFS && $0.height == 0 } == true)
        // Too many segments to tick each: only the first is (no gaps).
        #expect(Self.ticks(page, track: .caller) == [0])
        #expect(Self.group(page, "segments", track: .bot)?.contains("data-count=\"3600\"") == true)
        #expect(elapsed < .seconds(60), "measuring an hour took \(elapsed)")
    }
}

extension ConsoleTimelineLevelsTests {
    /// The disclosure is drawn apart from the consent decisions (a triangle, not a circle), and the
    /// stretches a redacted copy silenced are drawn on its lane and listed, with what was there (the
    /// kind, never the words).
    @Test func theDisclosureAndRedactedSpansAreDrawnApart() async throws {
        let fixture = try ConsoleFixture("console-timeline-redacted")
        try Self.record(
            fixture.callA, in: fixture, frames: 150, events: [(atFrame: 10, kind: .disclosure), (atFrame: 40, kind: .pause)]
        ) { _, _ in true }
        let caller = try #require(try fixture.data.catalog.recordings(inCalls: [fixture.callA.id]).first { $0.track == .caller })
        let redaction = RecordingRedaction(
            detectorVersion: "callvault-redaction-1", paddingMs: 250,
            spans: [.init(startMs: 1_200, endMs: 2_000, kinds: ["cardNumber"])])
        let copy = try fixture.data.catalog.createRedactedRecording(
            originalID: caller.id, id: UUID().uuidString.lowercased(), path: "recordings/copy.cvr", storage: nil,
            redaction: redaction)
        let (_, cookies) = await fixture.signIn("ada")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        /// The `<g class="event KIND">` group, up to its end.
        func event(_ kind: String) throws -> String {
            let start = try #require(page.range(of: "<g class=\"event \(kind)\">"), "no \(kind) event drawn")
            let rest = page[start.lowerBound...]
            return String(rest[..<(try #require(rest.range(of: "</g>"))).upperBound])
        }
        let disclosure = try event("disclosure")
        #expect(disclosure.contains("<path d=\"M") && !disclosure.contains("<circle"), "\(disclosure)")
        let pause = try event("pause")
        #expect(pause.contains("<circle") && !pause.contains("<path"), "\(pause)")
        let redacted = Self.elements("rect", in: page).filter { $0.contains("class=\"redacted pending\"") }
        #expect(redacted.count == 1)
        #expect(redacted.first.flatMap { Self.attribute("data-ms", in: $0) } == "1200")
        let drawn = try #require(page.range(of: "class=\"redacted pending\"").map { page[$0.lowerBound...] })
        let title = drawn[..<(try #require(drawn.range(of: "</rect>"))).lowerBound]
        #expect(title.hasSuffix(": cardNumber</title>"), "the kind in its title: \(title)")
        #expect(page.contains("<td>caller redacted</td>"), "listed in the table")
        #expect(copy.redaction?.spans.count == 1)
    }
}
