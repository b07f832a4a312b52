import CallVaultAudio
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve` as a child process on 127.0.0.1, driven like Twilio drives it.
@Suite("callvault serve end to end", .serialized, .timeLimit(.minutes(15)))
struct ServeEndToEndTests {
    /// Runs one CLI command to completion; returns status and stdout.
    static func cli(_ arguments: [String], data: String?) throws -> (status: Int32, stdout: String) {
        let executable = try #require(Repository.callvault, "callvault not built")
        let output = try ChildProcess.run(
            executable, arguments + (data.map { ["--data", $0] } ?? []), timeout: .seconds(120))
        return (output.status, output.stdout)
    }

    /// An initialised data directory with one tenant (consent digit 1); returns its path and token.
    static func setUp() throws -> (root: String, data: String, token: String) {
        let root = try TemporaryDirectory.make("serve-test")
        let data = root + "/data"
        #expect(try cli(["init"], data: data).status == 0)
        let added = try cli(["tenant", "add", "acme", "--consent-digit", "1", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])
        let token = try #require(object["token"] as? String)
        let tenantID = try #require(object["id"] as? String)
        let keyStore = try KeyStore(dataDirectory: DataDirectory(path: data), logger: Logger(label: "test"))
        try keyStore.ensureTenant(tenantID)
        return (root, data, token)
    }

    /// Twilio `media` for one track: 20 ms of μ-law bytes `fill`, base64.
    static func media(_ track: String, frame: Int, fill: UInt8) -> [UInt8] {
        let payload = Data(repeating: fill, count: 160).base64EncodedString()
        return Array(
            #"{"event":"media","sequenceNumber":"\#(frame + 3)","media":{"track":"\#(track)","chunk":"\#(frame + 1)","timestamp":"\#(frame * 20)","payload":"\#(payload)"},"streamSid":"MZ1"}"#
                .utf8)
    }

    static func start(callSid: String) -> [UInt8] {
        Array(
            #"{"event":"start","sequenceNumber":"2","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"\#(callSid)","tracks":["inbound","outbound"],"customParameters":{},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#
                .utf8)
    }

    @Test func aTwilioCallWithDTMFConsentIsRecordedFromTheToneOnAndSurvivesShutdown() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)
        defer { server.terminate() }
        let port = server.port

        let ws = try TestSocketClient(port: port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8))
        ws.sendFrame(opcode: 1, Self.start(callSid: "CA100"))
        for frame in 0..<250 {
            if frame == 100 {
                ws.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"200","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
            }
            ws.sendFrame(opcode: 1, Self.media("inbound", frame: frame, fill: 0x55))
            ws.sendFrame(opcode: 1, Self.media("outbound", frame: frame, fill: 0x66))
        }
        ws.sendFrame(opcode: 1, Array(#"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"CA100"},"streamSid":"MZ1"}"#.utf8))
        let close = try #require(ws.readFrame())
        #expect(close.opcode == 8 && TestSocketClient.closeCode(close.payload).code == 1000)

        // Metrics: 250 frames per track in, 100 per track dropped before consent, 3 s per track sealed.
        let metrics = try #require(TestSocketClient(port: port).http("GET", "/metrics")).body
        #expect(metrics.contains("callvault_frames_in_total 500"), "\(metrics)")
        #expect(metrics.contains("callvault_frames_dropped_total{reason=\"gate\"} 200"))
        #expect(metrics.contains("callvault_segments_sealed_total 6"))
        #expect(metrics.contains("callvault_bytes_sealed_total 48096"))  // 6 × (16-byte header + 8,000 μ-law bytes)
        // Each of the 6 segments sealed on the media path had its latency measured, in fine buckets;
        // the event loops were probed while the server ran.
        #expect(metrics.contains("callvault_seal_latency_seconds_count 6"), "\(metrics)")
        #expect(metrics.contains(#"callvault_seal_latency_seconds_bucket{le="0.05"} "#))
        let lagCount = metrics.split(separator: "\n").first { $0.hasPrefix("callvault_event_loop_lag_seconds_count ") }
        #expect((lagCount?.split(separator: " ").last).flatMap { Int($0) } ?? 0 > 0, "\(metrics)")

        #expect(try server.stop() == 0)

        let listed = try Self.cli(["recordings", "list", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let recordings = try #require(object["recordings"] as? [[String: Any]])
        #expect(recordings.count == 2)
        for recording in recordings {
            #expect(recording["state"] as? String == "complete")
            #expect(recording["codec"] as? String == "g711u")
            // Frames 100..<250 were written: 3 s.
            #expect(recording["durationMs"] as? Int == 3000, "\(recording)")
        }
        let audit = try Self.cli(["audit", "list", "--json"], data: data)
        #expect(audit.stdout.contains("consent.event") && audit.stdout.contains("dtmf"))
        // One transcription job for the call, queued when its recordings completed.
        let jobs = try Self.cli(["jobs", "list", "--state", "queued", "--json"], data: data)
        let queued = try #require(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [String: Any])
        #expect((queued["jobs"] as? [Any])?.count == 1)
        #expect(try Self.cli(["jobs", "list", "--state", "bogus"], data: data).status == 2)

        // The stereo export puts both tracks on the call's timeline: silence before consent (2 s),
        // then the caller's μ-law 0x55 on the left and the bot's 0x66 on the right.
        let stereo = root + "/call.wav"
        let exported = try Self.cli(["calls", "export", "CA100", "--out", stereo], data: data)
        #expect(exported.status == 0, "\(exported.stdout)")
        let reader = try AudioFileReader(path: stereo)
        #expect(reader.channels == 2 && reader.sampleRate == 8000 && reader.durationMs == 5000)
        _ = try AudioFileReader(path: stereo).readAllMono()  // whole file reads, not cut short
        let raw = try Data(contentsOf: URL(fileURLWithPath: stereo))
        let frame = raw.dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(frame[0] == 0 && frame[1] == 0 && frame[2 * 15_999] == 0)
        #expect(frame[2 * 16_000] == G711.muLawToLinear(0x55) && frame[2 * 16_000 + 1] == G711.muLawToLinear(0x66))
        let again = try Self.cli(["calls", "export", "CA100", "--out", stereo], data: data)
        #expect(again.status == 1, "an existing file is never overwritten")
        let entries = try Self.cli(["audit", "list", "--json"], data: data)
        #expect(entries.stdout.contains("recording.decrypted") && entries.stdout.contains("recording.exported"))
    }

    /// Two servers on one catalog (issue 14's node ownership): a server starting beside a live one leaves the
    /// live one's open recording alone; once the live one is killed mid-call, the other recovers its
    /// recording (within its recovery interval, as the killed process is gone from this host).
    @Test func twoServersOnOneCatalogSpareEachOthersCallsAndRecoverAKilledOnesRecording() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try ServeProcess(data: data)
        defer { first.terminate() }
        let catalog = try Self.catalog(data: data)
        func call(_ sid: String, frames: Range<Int>, on ws: TestSocketClient) {
            for frame in frames { ws.sendFrame(opcode: 1, Self.media("inbound", frame: frame, fill: 0x55)) }
        }
        let ws = try TestSocketClient(port: first.port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, Self.start(callSid: "CA-A"))
        ws.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        call("CA-A", frames: 0..<100, on: ws)
        #expect(try poll(timeout: .seconds(20)) { try !catalog.recordingsLeftOpen().isEmpty }, "the first server records")
        let owner = try #require(try catalog.recordingsLeftOpen().first?.node)
        #expect(owner.hasPrefix("serve."), "the recording carries its node: \(owner)")

        // A second server starts on the same catalog: its start-up recovery spares the live call.
        let second = try ServeProcess(data: data)
        defer { second.terminate() }
        #expect(try catalog.recordingsLeftOpen().map(\.node) == [owner], "the live recording is still open")
        call("CA-A", frames: 100..<150, on: ws)
        ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
        #expect(ws.readFrame().map { TestSocketClient.closeCode($0.payload).code } == 1000)
        let firstCall = try #require(try catalog.recordingSummaries().first)
        #expect(firstCall.state == .complete && firstCall.durationMs == 3000, "\(firstCall)")

        // A call on the second server; the first is killed mid-call on a call of its own.
        let other = try TestSocketClient(port: second.port)
        #expect(other.upgrade("/v1/twilio?token=\(token)") == 101)
        other.sendFrame(opcode: 1, Self.start(callSid: "CA-C"))
        other.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        call("CA-C", frames: 0..<100, on: other)
        let killed = try TestSocketClient(port: first.port)
        #expect(killed.upgrade("/v1/twilio?token=\(token)") == 101)
        killed.sendFrame(opcode: 1, Self.start(callSid: "CA-B"))
        killed.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        call("CA-B", frames: 0..<150, on: killed)
        let open = try poll(timeout: .seconds(20)) {
            let open = try catalog.recordingsLeftOpen()
            return open.count == 2 && open.allSatisfy { $0.durationMs >= 1000 }
        }
        #expect(open, "two calls open, one on each server")
        let left = try catalog.recordingsLeftOpen()
        let onFirst = try #require(left.first { $0.node == owner })
        let onSecond = try #require(left.first { $0.node != owner })
        try first.kill()

        // The second server recovers the killed one's recording (interrupted, its job queued) and keeps its own.
        let recovered = try poll(timeout: .seconds(30)) { try catalog.recordingsLeftOpen().map(\.id) == [onSecond.id] }
        #expect(recovered, "the killed server's recording was recovered by the other")
        let b = try catalog.recording(id: onFirst.id)
        #expect(b.state == .interrupted && b.durationMs >= 1000, "\(b)")
        call("CA-C", frames: 100..<150, on: other)
        other.sendFrame(opcode: 1, ServeLimitsTests.stop)
        #expect(other.readFrame().map { TestSocketClient.closeCode($0.payload).code } == 1000)
        #expect(try second.stop() == 0)
        #expect(try catalog.recording(id: onSecond.id).state == .complete, "the live server's call was untouched")
        #expect(try catalog.auditLog.verify().isIntact)
        let jobs = try Self.cli(["jobs", "list", "--json"], data: data)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [String: Any])
        #expect((listed["jobs"] as? [Any])?.count == 3, "one job per call, the recovered one's included")
    }

    @Test func afterKill9TheServerRestartsOnTheSamePortAndRecoversTheCall() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try ServeProcess(data: data)
        defer { first.terminate() }
        let port = first.port
        let ws = try TestSocketClient(port: port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, Self.start(callSid: "CA200"))
        ws.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        for frame in 0..<200 { ws.sendFrame(opcode: 1, Self.media("inbound", frame: frame, fill: 0x55)) }
        // Kill it once the flush group (100 ms here) made 3 of the 4 sealed segments durable: the progress
        // it writes to the catalog is what was synced.
        let catalog = try Self.catalog(data: data)
        let durable = try poll(timeout: .seconds(20)) { try catalog.recordingSummaries().first?.durationMs ?? 0 >= 3000 }
        let durations = try catalog.recordingSummaries().map(\.durationMs)
        #expect(durable, "\(durations) ms durable")
        try first.kill()

        let second = try ServeProcess(data: data, port: port)
        defer { second.terminate() }
        #expect(second.port == port)
        let listed = try Self.cli(["recordings", "list", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let recording = try #require((object["recordings"] as? [[String: Any]])?.first)
        #expect(recording["state"] as? String == "interrupted")
        // 4 s were sent; whole 1 s segments older than the flush window survive.
        let duration = recording["durationMs"] as? Int ?? 0
        #expect((3000...4000).contains(duration), "recovered \(duration) ms")
        #expect(try second.stop() == 0)
    }

    @Test func simulateStreamsASampleCallThatIsRecordedFromConsentOn() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)
        defer { server.terminate() }
        let port = server.port
        let samples = Repository.samples
        // A 16 kHz file, so simulate's resampling to the 8 kHz of Twilio is on the path too.
        let wide = root + "/disclosure.16k.wav"
        let narrow = try AudioFileReader(path: samples + "/disclosure.ulaw.wav").readAllMono()
        let writer = try AudioFileWriter(path: wide, sampleRate: 16_000)
        try writer.write(Resampler.resample(narrow, from: .hz8000, to: .hz16000))
        try writer.close()
        let simulated = try Self.cli(
            ["simulate", "--url", "ws://127.0.0.1:\(port)/v1/twilio", "--token", token, "--file",
             wide, "--calls", "3", "--consent-at", "2", "--json"], data: nil)
        #expect(simulated.status == 0, "\(simulated.stdout)")
        #expect(simulated.stdout.contains("\"errors\" : \"0\""))
        try server.stop()
        let listed = try Self.cli(["recordings", "list", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let recordings = try #require(object["recordings"] as? [[String: Any]])
        #expect(recordings.count == 3)
        // The 8.88 s disclosure minus the 2 s before consent, in whole frames.
        #expect(recordings.allSatisfy { abs(($0["durationMs"] as? Int ?? 0) - 6880) <= 40 }, "\(recordings.map { $0["durationMs"] ?? 0 })")
        let wrong = try Self.cli(["simulate", "--token", token, "--file", "/nonexistent.wav"], data: nil)
        #expect(wrong.status == 1)
    }

    /// `--frames-per-write 5`: the same audio in writes of 100 ms, paced in real time; every frame is recorded
    /// where its timestamp puts it.
    @Test func simulateInRealTimeWithSeveralFramesPerWriteRecordsEveryFrame() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)
        defer { server.terminate() }
        // 1.3 s of the disclosure: 65 frames, the last write carrying the 5 left.
        let short = root + "/short.wav"
        let narrow = try AudioFileReader(path: Repository.samples + "/disclosure.ulaw.wav").readAllMono()
        let writer = try AudioFileWriter(path: short, sampleRate: 8_000)
        try writer.write(Array(narrow.prefix(10_400)))
        try writer.close()
        let arguments = ["simulate", "--url", "ws://127.0.0.1:\(server.port)/v1/twilio", "--token", token, "--file", short]
        let simulated = try Self.cli(
            arguments + ["--bot-file", short, "--calls", "2", "--consent-at", "0", "--realtime", "--frames-per-write", "5",
                         "--json"], data: nil)
        #expect(simulated.status == 0, "\(simulated.stdout)")
        #expect(simulated.stdout.contains("\"framesSent\" : \"260\""), "\(simulated.stdout)")
        #expect(simulated.stdout.contains("\"errors\" : \"0\""), "\(simulated.stdout)")
        try server.stop()
        let recordings = try Self.recordings(data: data)
        #expect(recordings.count == 4)
        #expect(recordings.allSatisfy { ($0["durationMs"] as? Int) == 1300 }, "\(recordings.map { $0["durationMs"] ?? 0 })")
        let unpaced = try Self.cli(arguments + ["--frames-per-write", "5"], data: nil)
        #expect(unpaced.status == 2)  // a usage error: it needs --realtime
    }

    @Test func simulateSendsTheBotsLinesAndOnlyThoseAfterConsentAreKept() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)
        defer { server.terminate() }
        let samples = Repository.samples
        let lines = try String(contentsOfFile: samples + "/bot-utterances.txt", encoding: .utf8)
            .split(separator: "\n").map { $0.replacingOccurrences(of: "|", with: ":") }
        #expect(lines.count == 5 && lines[0].hasPrefix("0.00:Hello"))
        let simulated = try Self.cli(
            ["simulate", "--url", "ws://127.0.0.1:\(server.port)/v1/twilio", "--token", token, "--file",
             samples + "/caller.flac", "--bot-file", samples + "/bot.flac", "--consent-at", "3", "--call-prefix", "CA-u"]
                + lines.flatMap { ["--utterance", $0] }, data: nil)
        #expect(simulated.status == 0, "\(simulated.stdout)")
        // The disclosure plays before the caller's consent at 3 s: its words are refused like its audio.
        #expect(simulated.stdout.contains("utterances: 4 kept, 1 refused"), "\(simulated.stdout)")
        #expect(simulated.stdout.contains("u1 at 0 ms: 409"), "\(simulated.stdout)")
        try server.stop()
        let catalog = try Catalog(directory: data)
        let call = try #require(try catalog.calls(externalID: "CA-u-1").first)
        let kept = try catalog.botUtterances(callID: call.id)
        #expect(kept.map(\.utteranceId) == ["u2", "u3", "u4", "u5"] && kept.map(\.startMs) == [11_470, 20_510, 32_680, 43_540])
    }

    /// Recordings listed by the CLI, as JSON objects.
    static func recordings(data: String) throws -> [[String: Any]] {
        let listed = try cli(["recordings", "list", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        return try #require(object["recordings"] as? [[String: Any]])
    }

    @Test func aBinaryStreamCallWithConsentGivenBeforeItStartsIsRecordedWhole() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data)
        defer { server.terminate() }
        let port = server.port
        let control = try TestSocketClient(port: port)
        let auth = ["Authorization": "Bearer \(token)"]
        #expect(control.http("POST", "/v1/calls", headers: auth, body: #"{"callId":"FS-1","from":"+15550101"}"#)?.status == 201)
        #expect(control.http("POST", "/v1/calls/FS-1/events", headers: auth, body: #"{"type":"consent","method":"verbal"}"#)?.status == 201)

        let ws = try TestSocketClient(port: port)
        #expect(ws.upgrade("/v1/stream") == 101)
        ws.sendFrame(opcode: 1, Array(#"{"callId":"FS-1","tenantToken":"\#(token)","encoding":"L16","sampleRate":16000,"track":"caller"}"#.utf8))
        // 2 s of 16 kHz L16 big-endian in chunks that do not line up with 20 ms frames.
        var audio: [UInt8] = []
        for i in 0..<32_000 { let v = UInt16(bitPattern: Int16(3000 * sin(Double(i) / 7))); audio += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        var offset = 0
        var size = 500
        while offset < audio.count {
            let end = min(audio.count, offset + size)
            ws.sendFrame(opcode: 2, Array(audio[offset..<end]))
            offset = end
            size = size == 500 ? 1_234 : 500
        }
        ws.sendFrame(opcode: 8, [0x03, 0xE8])
        _ = ws.readFrame()
        try Self.waitUntilRecorded(1, data: data)
        #expect(try server.stop() == 0)
        let recordings = try Self.recordings(data: data)
        #expect(recordings.count == 1)
        #expect(recordings.first?["codec"] as? String == "pcm16" && recordings.first?["durationMs"] as? Int == 2000, "\(recordings)")
    }

    @Test func anAudioSocketCallRegisteredByTheControlAPIIsRecorded() throws {
        let (root, data, token) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data, audioSocket: true)
        defer { server.terminate() }
        let port = server.port
        let audioPort = try #require(server.audioSocketPort)
        let uuid = UUID()
        let control = try TestSocketClient(port: port)
        let auth = ["Authorization": "Bearer \(token)"]
        #expect(control.http("POST", "/v1/calls", headers: auth, body: #"{"callId":"\#(uuid.uuidString.lowercased())"}"#)?.status == 201)

        // An unregistered UUID is hung up on, and harms nothing.
        let stranger = try TestSocketClient(port: audioPort)
        stranger.send([0x01, 0x00, 0x10] + withUnsafeBytes(of: UUID().uuid) { Array($0) } + [0x10, 0x01, 0x40] + [UInt8](repeating: 1, count: 320))

        let asterisk = try TestSocketClient(port: audioPort)
        var stream: [UInt8] = [0x01, 0x00, 0x10] + withUnsafeBytes(of: uuid.uuid) { Array($0) }
        for frame in 0..<150 {
            if frame == 50 { stream += [0x03, 0x00, 0x01, UInt8(ascii: "1")] }  // the consent key at 1 s
            stream += [0x10, 0x01, 0x40] + [UInt8](repeating: UInt8(frame & 0x7F), count: 320)
        }
        stream += [0x00, 0x00, 0x00]
        asterisk.send(stream)
        try Self.waitUntilRecorded(1, data: data)
        #expect(try server.stop() == 0)
        let recordings = try Self.recordings(data: data)
        #expect(recordings.count == 1)
        // Frames 50..<150 follow the key: 2 s.
        #expect(recordings.first?["durationMs"] as? Int == 2000, "\(recordings)")
        let audit = try Self.cli(["audit", "list", "--json"], data: data)
        #expect(audit.stdout.contains("dtmf"))
    }
}
