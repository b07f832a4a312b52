import CallVaultArchive
import CallVaultAudio
import CallVaultConsole
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import Testing

/// Playback and WAV downloads streamed segment by segment (payloads read as `serve` reads them,
/// ``SegmentPayload/format``): the same bytes as the whole-call decode,
/// Range requests answered from the segments they cover, bounded memory on a call of hours, one audit
/// entry per playback whatever the requests, and a segment that fails mid-stream cuts the connection.
@Suite(.timeLimit(.minutes(15))) struct ConsoleStreamedPlaybackTests {
    /// Records `seconds` of distinct tones on `tracks` of `call` (1 s segments), the bot starting
    /// `botDelayFrames` frames after the caller, so the tracks' placement on the timeline matters.
    static func record(
        _ call: CallRecord,
        in fixture: ConsoleFixture,
        seconds: Int,
        codec: StorageCodec = .pcm16,
        tracks: [RecordingTrack] = [.caller, .bot],
        botDelayFrames: Int = 13
    ) throws {
        let recorder = CallRecorder(
            callID: call.id,
            settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: codec),
            catalog: fixture.data.catalog,
            keyStore: fixture.data.keyStore,
            dataDirectory: fixture.data.directory,
            flushGroup: nil,
            logger: Logger(label: "test")
        )
        let ring = FrameRing(sampleRate: .hz8000)
        for frameIndex in 0..<(seconds * 50) {
            for track in tracks {
                if track == .bot && frameIndex < botDelayFrames && tracks.count > 1 { continue }
                let frame = ring.next(timestampMs: Int64(frameIndex) * 20)
                let pitch = track == .caller ? 440.0 : 660.0
                for i in 0..<160 {
                    frame.samples[i] = Int16(6000 * sin(Double(frameIndex * 160 + i) * 2 * .pi * pitch / 8000))
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(seconds) * 1000)
    }

    /// The stereo WAV the console built before streaming: both tracks decoded whole by the exporter
    /// and interleaved (caller left, bot right), the shorter padded with silence.
    static func referenceWAV(
        _ call: CallRecord,
        in fixture: ConsoleFixture,
        payloadFormat: SegmentPayloadFormat = .rawCodec
    ) async throws -> [UInt8] {
        let exporter = RecordingExporter(
            catalog: fixture.data.catalog,
            keyStore: fixture.data.keyStore,
            dataDirectory: fixture.data.directory,
            payloadFormat: payloadFormat
        )
        var left: [Int16] = [], right: [Int16] = []
        for recording in try fixture.data.catalog.recordings(inCalls: [call.id]) {
            let samples = try await exporter.export(recordingID: recording.id, actor: "test", onTimeline: true).samples
            if recording.track == .caller { left = samples } else { right = samples }
        }
        let frames = max(left.count, right.count)
        var wav: [UInt8] = []
        func u32(_ value: Int) {
            for shift in stride(from: 0, to: 32, by: 8) { wav.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        func u16(_ value: Int) {
            wav.append(UInt8(truncatingIfNeeded: value)); wav.append(UInt8(truncatingIfNeeded: value >> 8))
        }
        wav += Array("RIFF".utf8); u32(36 + frames * 4); wav += Array("WAVE".utf8)
        wav += Array("fmt ".utf8); u32(16); u16(1); u16(2); u32(8000); u32(8000 * 4); u16(4); u16(16)
        wav += Array("data".utf8); u32(frames * 4)
        for i in 0..<frames {
            u16(Int(i < left.count ? left[i] : 0))
            u16(Int(i < right.count ? right[i] : 0))
        }
        return wav
    }

    static func decryptions(_ fixture: ConsoleFixture) async throws -> Int {
        try await fixture.data.catalog.audit.entries().filter { $0.action == .recordingDecrypted }.count
    }

    func audio(_ fixture: ConsoleFixture, _ call: CallRecord, cookies: [String: String], range: String? = nil) async
        -> ConsoleResponse
    {
        let headers = ConsoleFixture.cookieHeader(cookies) + (range.map { [("range", $0)] } ?? [])
        return await ConsoleFixture.collected(
            await fixture.console.handle(
                ConsoleRequest(method: "GET", target: "/calls/\(call.id)/audio.wav", headers: headers)
            )
        )
    }

    @Test func streamedPlaybackAndDownloadAreTheWholeCallDecodeByteForByte() async throws {
        let fixture = try ConsoleFixture("stream-same", payloadFormat: SegmentPayload.format)
        try Self.record(fixture.callA, in: fixture, seconds: 7)
        let reference = try await Self.referenceWAV(fixture.callA, in: fixture, payloadFormat: SegmentPayload.format)
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "qa"],
                cookies: cookies
            ).status == 303
        )
        let streamed = await fixture.console.handle(
            ConsoleRequest(
                method: "GET",
                target: "/calls/\(fixture.callA.id)/audio.wav",
                headers: ConsoleFixture.cookieHeader(cookies)
            )
        )
        #expect(streamed.status == 200 && streamed.stream != nil && streamed.body.isEmpty, "a streamed body")
        #expect(streamed.contentLength == reference.count)
        let body = try await #require(streamed.stream).collect()
        #expect(body.count == reference.count && body == reference, "the same WAV as the whole-call decode")
        let download = await fixture.post(
            "/calls/\(fixture.callA.id)/download",
            form: ["csrf": csrf, "what": "wav", "reason": "qa"],
            cookies: cookies
        )
        #expect(download.status == 200 && download.header("content-disposition")?.hasPrefix("attachment;") == true)
        #expect(download.body == reference, "the download is the same WAV")
        // Over a real socket: the whole body and a range, each its exact length, no-store.
        try await ConsoleServerTests.serving(fixture) { url in
            let cookie = "Cookie: cv_session=\(cookies["cv_session"] ?? "")"
            for (arguments, expected) in [([String](), 0..<reference.count), (["-r", "40000-99999"], 40000..<100000)] {
                let body = fixture.data.root + "/whole.wav", head = fixture.data.root + "/whole.headers"
                let audio = url + "/calls/\(fixture.callA.id)/audio.wav"
                let run = try await offCooperativePool { try ChildProcess.run(
                    URL(fileURLWithPath: "/usr/bin/curl"),
                    ["-sS", "--max-time", "60", "-H", cookie, "-D", head, "-o", body] + arguments + [audio],
                    timeout: .seconds(90)
                ) }
                #expect(run.status == 0, "\(run.stderr)")
                let headers = try String(contentsOfFile: head, encoding: .utf8)
                #expect(ConsoleServerTests.header("content-length", in: headers) == ["\(expected.count)"])
                #expect(ConsoleServerTests.header("cache-control", in: headers) == ["no-store"])
                #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: body))) == Array(reference[expected]))
                try FileManager.default.removeItem(atPath: body)
            }
        }
    }

    @Test func rangesAreSlicesOfTheWholeWAVAndOnePlaybackIsAuditedOnce() async throws {
        let fixture = try ConsoleFixture("stream-ranges", payloadFormat: SegmentPayload.format)
        try Self.record(fixture.callA, in: fixture, seconds: 6)
        let reference = try await Self.referenceWAV(fixture.callA, in: fixture, payloadFormat: SegmentPayload.format)
        let auditedBefore = try await Self.decryptions(fixture)
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "qa"],
                cookies: cookies
            ).status == 303
        )
        #expect(try await Self.decryptions(fixture) == auditedBefore + 2, "one entry per track for the playback")
        let length = reference.count
        // A 1 s segment is 8,000 stereo frames, 32,000 bytes of WAV: 30,000-70,000 crosses two boundaries.
        let cases: [(String, Range<Int>)] = [
            ("bytes=0-99", 0..<100),
            ("bytes=30000-70000", 30000..<70001),
            ("bytes=\(length - 100)-\(length - 1)", (length - 100)..<length),
            ("bytes=\(length - 5000)-\(length + 5000)", (length - 5000)..<length),
            ("bytes=100000-", 100000..<length),
            ("bytes=-777", (length - 777)..<length),
            ("bytes=-\(length * 2)", 0..<length),
        ]
        for (header, expected) in cases {
            let response = await audio(fixture, fixture.callA, cookies: cookies, range: header)
            #expect(response.status == 206, "\(header)")
            #expect(
                response.header("content-range") == "bytes \(expected.lowerBound)-\(expected.upperBound - 1)/\(length)",
                "\(header)"
            )
            #expect(response.body == Array(reference[expected]), "\(header): the slice of the whole WAV")
            #expect(response.header("cache-control") == nil || response.header("cache-control") == "no-store")
        }
        for header in ["bytes=\(length)-", "bytes=\(length + 10)-\(length + 20)", "bytes=-0"] {
            let refused = await audio(fixture, fixture.callA, cookies: cookies, range: header)
            #expect(refused.status == 416 && refused.header("content-range") == "bytes */\(length)", "\(header)")
            #expect(refused.body.isEmpty)
        }
        // Not a single byte range: the whole body.
        for header in ["bytes=0-1,5-9", "items=0-10", "bytes=9-2"] {
            let whole = await audio(fixture, fixture.callA, cookies: cookies, range: header)
            #expect(whole.status == 200 && whole.body == reference, "\(header)")
        }
        #expect(try await Self.decryptions(fixture) == auditedBefore + 2, "range requests add no audit entry")
        // A second playback is audited again.
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "again"],
                cookies: cookies
            ).status == 303
        )
        #expect(try await Self.decryptions(fixture) == auditedBefore + 4)
    }

    /// Opus carries decoder state from packet to packet: a range is decoded from the track's start, so it
    /// is still the exact slice of the whole WAV.
    @Test func anOpusCallsRangesAreExactSlicesToo() async throws {
        let fixture = try ConsoleFixture("stream-opus", payloadFormat: SegmentPayload.format)
        try Self.record(fixture.callA, in: fixture, seconds: 4, codec: .opus)
        let reference = try await Self.referenceWAV(fixture.callA, in: fixture, payloadFormat: SegmentPayload.format)
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "qa"],
                cookies: cookies
            ).status == 303
        )
        #expect(await audio(fixture, fixture.callA, cookies: cookies).body == reference)
        for (header, expected) in [
            ("bytes=70000-90000", 70000..<90001), ("bytes=-3000", (reference.count - 3000)..<reference.count),
        ] {
            #expect(
                await audio(fixture, fixture.callA, cookies: cookies, range: header).body == Array(reference[expected]),
                "\(header)"
            )
        }
    }

    @Test func viewersAndOtherTenantsGetNoAudioWhateverTheRange() async throws {
        let fixture = try ConsoleFixture("stream-scope")
        try Self.record(fixture.callA, in: fixture, seconds: 2)
        try Self.record(fixture.callB, in: fixture, seconds: 2)
        let (_, viewer) = await fixture.signIn("victor")
        let viewerCSRF = await fixture.csrf(viewer)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": viewerCSRF, "reason": "x"],
                cookies: viewer
            ).status == 403
        )
        #expect(await audio(fixture, fixture.callA, cookies: viewer, range: "bytes=0-99").status == 404)
        let (_, alice) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(alice)
        #expect(
            await fixture.post("/calls/\(fixture.callB.id)/play", form: ["csrf": csrf, "reason": "x"], cookies: alice)
                .status == 404
        )
        #expect(
            await fixture.post("/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": "x"], cookies: alice)
                .status == 303
        )
        #expect(
            await audio(fixture, fixture.callB, cookies: alice, range: "bytes=0-99").status == 404,
            "another tenant's call"
        )
        #expect(
            await audio(fixture, fixture.callA, cookies: viewer, range: "bytes=-10").status == 404,
            "the grant is alice's"
        )
        #expect(try await Self.decryptions(fixture) == 2, "only alice's playback of call A was decrypted")
    }

    /// Two hours (twice the old limit) of the bot's track in G.711: streamed whole, the producer never
    /// holds more than a chunk and a segment per track; the tail is read without the rest.
    @Test func aCallOfHoursStreamsInBoundedMemory() async throws {
        let fixture = try ConsoleFixture("stream-long")
        let clock = ContinuousClock()
        let recordStart = clock.now
        try Self.record(fixture.callA, in: fixture, seconds: 2 * 3600, codec: .g711u, tracks: [.bot])
        let recorded = clock.now - recordStart
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        let grantStart = clock.now
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "long"],
                cookies: cookies
            ).status == 303
        )
        let granted = clock.now - grantStart
        let streamStart = clock.now
        let response = await fixture.console.handle(
            ConsoleRequest(
                method: "GET",
                target: "/calls/\(fixture.callA.id)/audio.wav",
                headers: ConsoleFixture.cookieHeader(cookies)
            )
        )
        let stream = try #require(response.stream)
        #expect(stream.length >= 44 + 2 * 3600 * 8000 * 4, "two hours of stereo frames: \(stream.length)")
        var total = 0
        var header: [UInt8] = []
        while let chunk = try await stream.next() {
            if header.count < 44 { header += chunk.prefix(44 - header.count) }
            total += chunk.count
        }
        let streamed = clock.now - streamStart
        #expect(total == stream.length, "Content-Length is exact")
        let stated = Int(header[40]) | Int(header[41]) << 8 | Int(header[42]) << 16 | Int(header[43]) << 24
        #expect(stated == stream.length - 44, "the header states the data sent")
        // A chunk (32 KB), its slice, two tracks' samples for it (32 KB) and a 1 s G.711 segment decoded
        // (16 KB): about 128 KB, for a 230 MB body.
        #expect(
            stream.peakBufferedBytes() > 0 && stream.peakBufferedBytes() <= 160_000,
            "peak \(stream.peakBufferedBytes()) bytes"
        )
        let tailStart = clock.now
        let tail = await audio(fixture, fixture.callA, cookies: cookies, range: "bytes=-64000")
        let tailTime = clock.now - tailStart
        #expect(tail.status == 206 && tail.body.count == 64000)
        #expect(tailTime < .seconds(2), "the tail needs its segments only: \(tailTime)")
        // Backpressure: a client that asks for the whole call and reads nothing holds the stream at what
        // the sockets buffer; without it the 230 MB would pile up in the server's memory in a second or two.
        var grown = 0
        try await ConsoleServerTests.serving(fixture) { url in
            let before = Self.residentBytes()
            let socket = try Self.stalledGET(
                url: url, path: "/calls/\(fixture.callA.id)/audio.wav", cookie: "cv_session=\(cookies["cv_session"] ?? "")")
            try await Task.sleep(for: .seconds(3))
            grown = Self.residentBytes() - before
            close(socket)
        }
        #expect(grown < 40_000_000, "memory grew \(grown) bytes while a client did not read a 230 MB body")
        print(
            "long call: recorded 2 h in \(recorded), grant (index) \(granted), streamed \(total) bytes in \(streamed), "
                + "peak buffered \(stream.peakBufferedBytes()) bytes, tail range \(tailTime), "
                + "memory grown under a stalled client \(grown) bytes"
        )
    }

    /// This process's resident memory, bytes (Linux `/proc/self/statm`).
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    /// Sends a GET for `path` to the listener at `url` over a plain socket with a small receive buffer,
    /// and returns the socket without reading from it (a client that stalls).
    static func stalledGET(url: String, path: String, cookie: String) throws -> Int32 {
        let port = try #require(url.split(separator: ":").last.flatMap { UInt16($0) })
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socket >= 0)
        var size: Int32 = 16384
        _ = setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(cookie)\r\n\r\n".utf8)
        #expect(send(socket, request, request.count, 0) == request.count)
        return socket
    }

    /// A segment changed on disk after the grant: the stream stops before it (never a byte of its audio),
    /// the connection is closed short of its Content-Length, and the log says why without any audio.
    @Test func aSegmentThatFailsMidStreamCutsTheConnection() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("stream-cut", logger: log.logger(), payloadFormat: SegmentPayload.format)
        try Self.record(fixture.callA, in: fixture, seconds: 8)
        let reference = try await Self.referenceWAV(fixture.callA, in: fixture, payloadFormat: SegmentPayload.format)
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "qa"],
                cookies: cookies
            ).status == 303
        )
        // Flip a byte in the middle of the caller's file (inside a segment of the fifth second or so).
        let caller = try #require(
            try fixture.data.catalog.recordings(inCalls: [fixture.callA.id]).first { $0.track == .caller }
        )
        let path = fixture.data.directory.resolve(caller.path)
        var file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        file[file.count / 2] ^= 0x01
        try Data(file).write(to: URL(fileURLWithPath: path))

        let direct = await fixture.console.handle(
            ConsoleRequest(
                method: "GET",
                target: "/calls/\(fixture.callA.id)/audio.wav",
                headers: ConsoleFixture.cookieHeader(cookies)
            )
        )
        let stream = try #require(direct.stream)
        var got: [UInt8] = []
        await #expect(throws: RecorderError.self) { while let chunk = try await stream.next() { got += chunk } }
        #expect(
            got.count < reference.count && got == Array(reference.prefix(got.count)),
            "only verified audio before the cut"
        )
        #expect(got.count <= 44 + 5 * 32000, "nothing from the failed segment's second: \(got.count)")

        try await ConsoleServerTests.serving(fixture) { url in
            let body = fixture.data.root + "/cut.wav", head = fixture.data.root + "/cut.headers"
            let cookie = "cv_session=\(cookies["cv_session"] ?? "")"
            let audio = url + "/calls/\(fixture.callA.id)/audio.wav"
            let run = try await offCooperativePool { try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/curl"),
                ["-sS", "--max-time", "60", "-H", "Cookie: \(cookie)", "-D", head, "-o", body, audio],
                timeout: .seconds(90)
            ) }
            #expect(run.status == 18, "curl saw the body cut short (partial file): \(run.status) \(run.stderr)")
            let headers = try String(contentsOfFile: head, encoding: .utf8)
            #expect(ConsoleServerTests.header("content-length", in: headers) == ["\(reference.count)"])
            #expect(ConsoleServerTests.header("cache-control", in: headers) == ["no-store"])
            let received = try [UInt8](Data(contentsOf: URL(fileURLWithPath: body)))
            #expect(received.count < reference.count && received == Array(reference.prefix(received.count)))
            try FileManager.default.removeItem(atPath: body)
        }
        #expect(await log.wait(for: "console audio stream cut"))
        let lines = log.all.filter { $0.hasPrefix("console audio stream cut") }
        #expect(lines.allSatisfy { $0.contains("does not authenticate") && $0.utf8.count < 600 }, "\(lines)")
    }
}
