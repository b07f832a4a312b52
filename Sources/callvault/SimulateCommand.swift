import ArgumentParser
import CallVaultAudio
import Foundation
import Synchronization

/// `callvault simulate`: streams audio files as Twilio Media Streams calls, for demos and load tests.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Stream an audio file as N concurrent Twilio-format calls and report what happened.",
        discussion: """
            The file is the caller's (inbound) track; --bot-file adds the bot's (outbound) track. Audio is
            resampled to 8 kHz and sent as base64 μ-law media messages, 20 ms each, with both tracks
            interleaved as Twilio does. --consent-at sends a DTMF key (the tenant's consent digit) at that second.
            """
    )

    @Option(help: "The server's Twilio endpoint.") var url = "ws://127.0.0.1:8080/v1/twilio"
    @Option(help: "The tenant's token (sent as ?token=).") var token: String
    @Option(help: "The caller's audio (WAV, FLAC, ...).") var file: String
    @Option(help: "The bot's audio, if any.") var botFile: String?
    @Option(help: "Concurrent calls.") var calls = 1
    @Option(help: "Second at which to press the consent key.") var consentAt: Double?
    @Option(help: "The key pressed for consent.") var consentDigit = "1"
    @Option(help: "Call id prefix (call ids are PREFIX-1, PREFIX-2, ...).") var callPrefix = "CA-sim"
    @Flag(help: "Pace frames in real time (default: as fast as possible).") var realtime = false
    @Flag(help: "Print one JSON document on stdout.") var json = false

    func validate() throws {
        guard (1...10_000).contains(calls) else { throw ValidationError("--calls must be 1...10000") }
        guard consentDigit.count == 1, "0123456789*#ABCD".contains(consentDigit) else {
            throw ValidationError("--consent-digit must be one DTMF key")
        }
    }

    func run() async throws {
        let caller = try Self.load(file)
        let bot = try botFile.map(Self.load)
        let frames = max(caller.count, bot?.count ?? 0) / 160
        let tally = Tally()
        let start = ContinuousClock.now
        // One thread per call: the client blocks on its socket (and sleeps when paced in real time).
        let done = DispatchGroup()
        for index in 1...calls {
            let url = "\(self.url)?token=\(token)"
            let callSid = "\(callPrefix)-\(index)"
            let plan = Plan(
                frames: frames, caller: caller, bot: bot, consentFrame: consentAt.map { Int($0 * 50) },
                digit: consentDigit, realtime: realtime)
            done.enter()
            let thread = Thread {
                do {
                    tally.sent.add(try Self.stream(url: url, callSid: callSid, plan: plan), ordering: .relaxed)
                } catch {
                    tally.failures.withLock { $0.append("\(callSid): \(error)") }
                }
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let errors = tally.failures.withLock { $0 }
        let report: [String: String] = [
            "calls": String(calls), "framesSent": String(tally.sent.load(ordering: .relaxed)), "errors": String(errors.count),
            "seconds": String(format: "%.2f", seconds),
            "framesPerSecond": String(format: "%.0f", Double(tally.sent.load(ordering: .relaxed)) / max(seconds, 0.001)),
        ]
        if json {
            try CatalogCommandSupport.printJSON(report)
        } else {
            print("simulate: \(calls) call(s), \(report["framesSent"]!) frames sent in \(report["seconds"]!) s (\(report["framesPerSecond"]!) frames/s), \(errors.count) error(s)")
            for error in errors.prefix(10) { print("  \(error)") }
        }
        if !errors.isEmpty { throw ExitCode(1) }
    }

    /// Counts shared by the call threads.
    final class Tally: Sendable {
        let sent = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
    }

    struct Plan: Sendable {
        let frames: Int
        let caller: [UInt8]
        let bot: [UInt8]?
        let consentFrame: Int?
        let digit: String
        let realtime: Bool
    }

    /// μ-law bytes at 8 kHz of an audio file.
    static func load(_ path: String) throws -> [UInt8] {
        do {
            let reader = try AudioFileReader(path: path)
            var samples = try reader.readAllMono()
            if reader.sampleRate != 8000 {
                guard let rate = SampleRate(rawValue: reader.sampleRate) else {
                    throw CLIError.failure("\(path): \(reader.sampleRate) Hz cannot be resampled here", hint: "use 8, 16 or 48 kHz audio")
                }
                samples = Resampler.resample(samples, from: rate, to: .hz8000)
            }
            return samples.map(G711.linearToMuLaw)
        } catch let error as AudioError {
            throw CLIError.failure(error.message)
        }
    }

    /// One call: connected, start, interleaved media (and a DTMF key), stop; returns media frames sent.
    static func stream(url: String, callSid: String, plan: Plan) throws -> Int {
        let client = try WebSocketClient(url: url)
        try client.sendText(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#)
        try client.sendText(
            #"{"event":"start","sequenceNumber":"1","start":{"accountSid":"ACsimulate","streamSid":"MZ\#(callSid)","callSid":"\#(callSid)","tracks":["inbound","outbound"],"customParameters":{},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ\#(callSid)"}"#
        )
        var sent = 0
        let clock = ContinuousClock()
        let begin = clock.now
        for frame in 0..<plan.frames {
            if frame == plan.consentFrame {
                try client.sendText(#"{"event":"dtmf","streamSid":"MZ\#(callSid)","dtmf":{"track":"inbound_track","digit":"\#(plan.digit)"}}"#)
            }
            for (track, audio) in [("inbound", plan.caller), ("outbound", plan.bot)] {
                guard let audio, frame * 160 < audio.count else { continue }
                let chunk = audio[(frame * 160)..<min(audio.count, frame * 160 + 160)]
                let payload = Data(chunk).base64EncodedString()
                try client.sendText(
                    #"{"event":"media","sequenceNumber":"\#(frame + 2)","media":{"track":"\#(track)","chunk":"\#(frame + 1)","timestamp":"\#(frame * 20)","payload":"\#(payload)"},"streamSid":"MZ\#(callSid)"}"#
                )
                sent += 1
            }
            if plan.realtime {
                let due = begin + .milliseconds(20 * (frame + 1))
                if due > clock.now { Thread.sleep(forTimeInterval: Double((due - clock.now).components.attoseconds) / 1e18) }
            }
        }
        try client.sendText(#"{"event":"stop","sequenceNumber":"\#(plan.frames + 2)","stop":{"accountSid":"ACsimulate","callSid":"\#(callSid)"},"streamSid":"MZ\#(callSid)"}"#)
        let code = client.awaitClose()
        guard code == 1000 else { throw CLIError.failure("\(callSid): the server closed the stream with code \(code)") }
        return sent
    }
}
