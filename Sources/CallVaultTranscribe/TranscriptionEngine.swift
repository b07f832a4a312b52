public import CallVaultArchive

/// A speech-to-text engine, as the queue worker and `callvault transcribe` use it.
///
/// Engines hold a decoder, a sidecar process or a connection, so they are not shared: each worker
/// thread makes its own through an ``TranscriptionEngineFactory``.
public protocol TranscriptionEngine: AnyObject {
    /// The name stored with each transcript: `pocketsphinx`, `whisper`, `http`, `command`.
    var name: String { get }

    /// Transcribes mono PCM16 at ``TranscriptionEngineRate/hz`` (16 kHz), returning utterances in time order.
    func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError) -> [TranscriptSegment]

    /// The segments and, for engines that detect it, the language they heard (when `options.language`
    /// is nil). The default is ``transcribe(_:options:)`` with no language.
    func recognise(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError) -> Recognition
}

extension TranscriptionEngine {
    public func recognise(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError) -> Recognition {
        Recognition(segments: try transcribe(samples, options: options))
    }
}

/// What an engine heard in one piece of audio.
public struct Recognition: Sendable, Equatable {
    public var segments: [TranscriptSegment]
    /// The language the engine detected (`nl`), nil when it was given one or cannot tell.
    public var language: String?
    /// How sure the engine was of `language` (0…1), when it says.
    public var languageProbability: Double?

    public init(segments: [TranscriptSegment], language: String? = nil, languageProbability: Double? = nil) {
        self.segments = segments
        self.language = language
        self.languageProbability = languageProbability
    }
}

/// The rate every engine is fed: what Whisper and the pocketsphinx en-us model are trained on.
public enum TranscriptionEngineRate {
    public static let hz = 16_000
}

/// Makes one engine per worker; called on the worker's own thread.
public typealias TranscriptionEngineFactory = @Sendable () throws(TranscriptionError) -> any TranscriptionEngine

/// Makes an engine of the worker's kind for another model directory (a tenant's own Whisper model);
/// called on the worker's thread, at most once per directory while the engine is kept.
public typealias TranscriptionModelEngineFactory =
    @Sendable (_ modelDirectory: String) throws(TranscriptionError) -> any TranscriptionEngine

/// Per-run choices an engine may honour.
public struct TranscriptionOptions: Sendable, Equatable {
    /// A language code (`en`), or nil to let the engine detect it.
    public var language: String?
    /// Beam width for engines that search (Whisper).
    public var beamSize: Int
    /// Drop non-speech before decoding (Whisper's VAD filter).
    public var voiceActivityFilter: Bool
    /// Words and phrases to expect (the tenant's vocabulary): Whisper's hotwords, an HTTP engine's
    /// `prompt`, a command's `{vocabulary}` file; pocketsphinx ignores them.
    public var vocabulary: [String]

    public init(
        language: String? = "en", beamSize: Int = 5, voiceActivityFilter: Bool = false, vocabulary: [String] = []
    ) {
        self.vocabulary = vocabulary
        self.language = language
        self.beamSize = beamSize
        self.voiceActivityFilter = voiceActivityFilter
    }
}
