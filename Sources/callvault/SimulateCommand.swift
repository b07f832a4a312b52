import ArgumentParser
import CallVaultAudio
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL
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

    @Option(help: "The server's Twilio endpoint: ws://, or wss:// for TLS.") var url = "ws://127.0.0.1:8080/v1/twilio"
    @Option(
        help: ArgumentHelp(
            "With wss://: trust this PEM certificate (or CA) instead of the system's roots, e.g. serve's own "
                + "self-signed --tls-cert.", valueName: "FILE"))
    var caFile: String?
    @Option(help: "The tenant's token (sent as ?token=).") var token: String
    @Option(help: "The caller's audio (WAV, FLAC, ...).") var file: String
    @Option(help: "The bot's audio, if any.") var botFile: String?
    @Option(help: "Concurrent calls.") var calls = 1
    @Option(help: "Second at which to press the consent key.") var consentAt: Double?
    @Option(help: "The key pressed for consent.") var consentDigit = "1"
    @Option(
        help: ArgumentHelp(
            "A Twilio mark the bot's audio reached at this second (repeatable), e.g. 25.6:sensitive-start.",
            valueName: "SECONDS:NAME"))
    var mark: [String] = []
    @Option(
        help: ArgumentHelp(
            "Something the bot says from this second (repeatable), sent as its platform would: POST "
                + "/v1/calls/CALLID/utterances on the same server with startMs, the stream held until it is answered. "
                + "e.g. '11.56:Thank you. How can I help you today?'",
            valueName: "SECONDS:TEXT"))
    var utterance: [String] = []
    @Option(help: "Call id prefix (call ids are PREFIX-1, PREFIX-2, ...).") var callPrefix = "CA-sim"
    @Flag(help: "Pace frames in real time (default: as fast as possible).") var realtime = false
    @Option(
        help: ArgumentHelp(
            "With --realtime: each write carries N frames of both tracks, every N×20 ms (default 1, as Twilio "
                + "paces; more measures what a server spends per read apart from per message).",
            valueName: "N"))
    var framesPerWrite = 1
    @Option(help: "Seconds over which the calls start (default: 2 ms apart, at most 10 s).") var rampSeconds: Double?
    @Flag(help: "Print one JSON document on stdout.") var json = false

    func validate() throws {
        guard (1...10_000).contains(calls) else { throw ValidationError("--calls must be 1...10000") }
        guard (1...50).contains(framesPerWrite) else { throw ValidationError("--frames-per-write must be 1...50") }
        guard framesPerWrite == 1 || realtime else { throw ValidationError("--frames-per-write needs --realtime") }
        guard consentDigit.count == 1, "0123456789*#ABCD".contains(consentDigit) else {
            throw ValidationError("--consent-digit must be one DTMF key")
        }
    }

    /// `--mark SECONDS:NAME` values by frame index (20 ms frames).
    static func marks(_ values: [String]) throws -> [Int: [String]] {
        var marks: [Int: [String]] = [:]
        for value in values {
            let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let seconds = Double(parts[0]), seconds >= 0, !parts[1].isEmpty,
                parts[1].utf8.count <= 64, parts[1].allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            else {
                throw ValidationError("--mark must be SECONDS:NAME (a name of letters, digits, - _ .), not \(value)")
            }
            marks[Int(seconds * 50), default: []].append(parts[1])
        }
        return marks
    }

    /// `--utterance SECONDS:TEXT` values by frame index (20 ms frames), with their start in ms.
    static func utterances(_ values: [String]) throws -> [Int: [(startMs: Int, text: String)]] {
        var utterances: [Int: [(startMs: Int, text: String)]] = [:]
        for value in values {
            let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let seconds = Double(parts[0]), seconds >= 0, seconds <= 86_400,
                !parts[1].trimmingCharacters(in: .whitespaces).isEmpty
            else {
                throw ValidationError("--utterance must be SECONDS:TEXT, not \(value.prefix(40))")
            }
            utterances[Int(seconds * 50), default: []].append((Int((seconds * 1000).rounded()), parts[1]))
        }
        return utterances
    }

    func run() async throws {
        guard let url = URL(string: url), url.scheme == "ws" || url.scheme == "wss", let host = url.host else {
            throw CLIError(what: "--url must be ws://HOST:PORT/PATH or wss://HOST:PORT/PATH, not \(self.url)", hint: nil, exitCode: 2)
        }
        let secure = url.scheme == "wss"
        let port = url.port ?? (secure ? 443 : 80)
        let tls = secure ? try Self.tlsConfiguration(caFile: caFile) : nil
        let path = (url.path.isEmpty ? "/" : url.path) + "?token=\(token)"
        let script = SimulationScript(
            caller: try Self.load(file), bot: try botFile.map(Self.load), consentFrame: consentAt.map { Int($0 * 50) },
            digit: consentDigit, realtime: realtime, framesPerWrite: framesPerWrite, marks: try Self.marks(mark),
            utterances: try Self.utterances(utterance), controlURL: "\(secure ? "https" : "http")://\(host):\(port)",
            token: token, tls: tls)
        let sslContext: NIOSSLContext?
        do { sslContext = try tls.map(NIOSSLContext.init) } catch {
            throw CLIError.failure("cannot set up TLS: \(error)", hint: "check --ca-file")
        }
        // Calls start spread over the ramp (default: 2 ms apart, at most 10 s) so that thousands of
        // connections do not hit the listen backlog at once, and their 20 ms ticks do not align.
        let ramp = rampSeconds ?? min(10, Double(calls) * 0.002)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let start = ContinuousClock.now
        var finished: [EventLoopFuture<Void>] = []
        for index in 1...calls {
            let delay = TimeAmount.nanoseconds(Int64(ramp * 1e9 * Double(index - 1) / Double(max(1, calls))))
            let loop = group.next()
            let callSid = "\(callPrefix)-\(index)"
            finished.append(
                loop.flatScheduleTask(in: delay) {
                    SimulatedCallConnector.connect(
                        group: loop, host: host, port: port, path: path, script: script, callSid: callSid,
                        tls: sslContext)
                }.futureResult)
        }
        try await EventLoopFuture.andAllComplete(finished, on: group.next()).get()
        try await group.shutdownGracefully()
        try? await script.httpClient.shutdown()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let errors = script.failures.withLock { $0 }
        let sent = script.sent.load(ordering: .relaxed)
        let lag = script.lagPercentiles
        var report: [String: String] = [
            "calls": String(calls), "framesSent": String(sent), "errors": String(errors.count),
            "seconds": String(format: "%.2f", seconds),
            "framesPerSecond": String(format: "%.0f", Double(sent) / max(seconds, 0.001)),
        ]
        if realtime {
            report["sendLagP50Ms"] = String(lag.p50)
            report["sendLagP99Ms"] = String(lag.p99)
            report["sendLagMaxMs"] = String(lag.max)
        }
        if json {
            try CatalogCommandSupport.printJSON(report)
        } else {
            print("simulate: \(calls) call(s), \(sent) frames sent in \(report["seconds"]!) s (\(report["framesPerSecond"]!) frames/s), \(errors.count) error(s)")
            if realtime { print("simulate: send lag p50 \(lag.p50) ms, p99 \(lag.p99) ms, max \(lag.max) ms (a lagging client invalidates a load figure)") }
            for error in errors.prefix(10) { print("  \(error)") }
        }
        if !utterance.isEmpty {
            let (kept, refused) = script.utteranceOutcomes.withLock { ($0.kept, $0.refused) }
            print("simulate: utterances: \(kept) kept, \(refused.count) refused" + (refused.isEmpty ? "" : ":"))
            for why in refused.prefix(10) { print("  \(why)") }
        }
        if !errors.isEmpty { throw ExitCode(1) }
    }

    /// A TLS client configuration: TLS 1.2 or later, the system's roots or `caFile`'s certificates, the
    /// server's name checked (its IP address when the URL has one).
    static func tlsConfiguration(caFile: String?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw CLIError.failure("--ca-file \(caFile): not a readable PEM certificate", hint: nil)
            }
        }
        return configuration
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
}
