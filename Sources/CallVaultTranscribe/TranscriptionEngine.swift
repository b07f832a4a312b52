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

    public init(language: String? = "en", beamSize: Int = 5, voiceActivityFilter: Bool = false) {
        self.language = language
        self.beamSize = beamSize
        self.voiceActivityFilter = voiceActivityFilter
    }
}
