public import CallVaultArchive
import Foundation
import CallVaultModel

/// Whisper (faster-whisper, CTranslate2) through a supervised sidecar process: the offline default
/// wherever `scripts/install-whisper` ran. One sidecar per engine (so per worker), started on first
/// use with the model loaded once, restarted after it dies, hangs or answers garbage — the failed
/// job itself goes back to the queue and is retried, never lost.
public final class WhisperEngine: TranscriptionEngine {
    public struct Configuration: Sendable, Equatable {
        public var installation: WhisperInstallation
        /// CTranslate2 CPU threads per sidecar (1: measured no faster with 2 on 2 cores; run more workers).
        public var threads: Int
        /// How long loading the model may take.
        public var startTimeout: Duration
        /// A reply may take this long plus `timeoutPerAudioSecond` for each second of audio.
        public var baseTimeout: Duration
        public var timeoutPerAudioSecond: Duration

        public init(
            installation: WhisperInstallation, threads: Int = 1, startTimeout: Duration = .seconds(60),
            baseTimeout: Duration = .seconds(30), timeoutPerAudioSecond: Duration = .seconds(2)
        ) {
            self.installation = installation
            self.threads = threads
            self.startTimeout = startTimeout
            self.baseTimeout = baseTimeout
            self.timeoutPerAudioSecond = timeoutPerAudioSecond
        }
    }

    public let name = "whisper"
    public let configuration: Configuration
    private var sidecar: WhisperSidecar?
    private var requests = 0
    /// Seconds the sidecar reported spending in faster-whisper, summed over requests.
    public private(set) var modelSeconds = 0.0
    /// Seconds from sending a request to holding its parsed reply, summed: the difference to
    /// `modelSeconds` is what the sidecar protocol costs (pipes, framing, JSON, the Python loop).
    public private(set) var requestSeconds = 0.0

    /// Checks the model's sums (for the bundled model) and starts the sidecar, so a missing or changed
    /// model is reported before any job is claimed.
    public init(configuration: Configuration) throws(TranscriptionError) {
        self.configuration = configuration
        try configuration.installation.verifyModel()
        sidecar = try start()
    }

    /// The running sidecar's process id, if one runs.
    public var sidecarPID: Int32? { sidecar.flatMap { $0.isAlive ? $0.pid : nil } }

    public func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError)
        -> [TranscriptSegment]
    {
        try recognise(samples, options: options).segments
    }

    public func recognise(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError) -> Recognition {
        guard !samples.isEmpty else { return Recognition(segments: []) }
        let running: WhisperSidecar
        if let sidecar, sidecar.isAlive { running = sidecar } else { running = try start() }
        sidecar = running
        requests += 1
        let id = "r\(requests)"
        let header: [String: Any] = [
            "id": id, "samples": samples.count, "sample_rate": TranscriptionEngineRate.hz,
            "language": options.language ?? NSNull(), "beam_size": options.beamSize,
            "vad": options.voiceActivityFilter, "word_timestamps": true,
            // faster-whisper's hotwords: measured better than nothing and as good as an initial prompt on
            // the domain sample (docs/transcription.md), and it does not make the model continue a "text".
            "hotwords": options.vocabulary.isEmpty ? NSNull() : options.vocabulary.joined(separator: ", "),
        ]
        let audioSeconds = Double(samples.count) / Double(TranscriptionEngineRate.hz)
        let timeout = configuration.baseTimeout + configuration.timeoutPerAudioSecond * audioSeconds
        let sent = ContinuousClock.now
        let reply = try running.request(header: header, audio: samples, timeout: timeout)
        let elapsed = ContinuousClock.now - sent
        if let error = reply["error"] as? String {
            // A refused request leaves the sidecar in sync: it stays up.
            throw TranscriptionError(.engineFailed, "the Whisper sidecar refused the audio: \(error.prefix(300))")
        }
        guard reply["id"] as? String == id, let segments = reply["segments"] as? [[String: Any]] else {
            running.stop()
            throw TranscriptionError(.badResponse, "the Whisper sidecar answered another request or no segments; restarted")
        }
        let result = segments.compactMap(Self.segment)
        requestSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        modelSeconds += (reply["engine_seconds"] as? Double) ?? 0
        // The language is the one it was told, unless it was asked to detect it.
        guard options.language == nil, let language = reply["language"] as? String, TenantPolicy.isLanguageCode(language)
        else { return Recognition(segments: result) }
        let probability = (reply["language_probability"] as? Double).map { min(1, max(0, $0)) }
        return Recognition(segments: result, language: language, languageProbability: probability)
    }

    private func start() throws(TranscriptionError) -> WhisperSidecar {
        try WhisperSidecar(
            installation: configuration.installation, threads: configuration.threads,
            startTimeout: configuration.startTimeout)
    }

    /// One reply segment in ms, its text and words trimmed of Whisper's leading spaces.
    static func segment(_ object: [String: Any]) -> TranscriptSegment? {
        func ms(_ value: Any?) -> Int? { (value as? Double).map { Int(($0 * 1000).rounded()) } ?? (value as? Int).map { $0 * 1000 } }
        guard let start = ms(object["start"]), let end = ms(object["end"]),
            let text = (object["text"] as? String)?.trimmingCharacters(in: .whitespaces), !text.isEmpty
        else { return nil }
        let words = (object["words"] as? [[String: Any]] ?? []).compactMap { word -> TranscriptWord? in
            guard let from = ms(word["start"]), let to = ms(word["end"]),
                let text = (word["word"] as? String)?.trimmingCharacters(in: .whitespaces), !text.isEmpty
            else { return nil }
            let probability = (word["probability"] as? Double) ?? Double(word["probability"] as? Int ?? 0)
            return TranscriptWord(word: text, startMs: from, endMs: to, confidence: min(1, max(0, probability)))
        }
        return TranscriptSegment(startMs: start, endMs: max(start, end), text: text, words: words)
    }
}
