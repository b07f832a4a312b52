/// What a drain of the queue did, for `transcribe --pending`'s closing line.
public struct TranscriptionSummary: Sendable, Equatable {
    public var done = 0
    public var failed = 0
    public var dead = 0
    public var cancelled = 0
    public var deferred = 0
    public var leaseLost = 0
    /// Audio transcribed, all tracks, in milliseconds.
    public var audioMs: Int64 = 0
    /// Seconds unsealing, decoding and resampling.
    public var prepareSeconds = 0.0
    /// Seconds in the engine.
    public var engineSeconds = 0.0
    /// Bot segments taken from the bot's own text (sent by its platform) instead of the engine.
    public var botTextSegments = 0
    /// Bot utterances its track never said (left out of the transcripts).
    public var botTextUnspoken = 0
    /// Bot turns whose recognised speech did not match their text (`--bot-transcript both`).
    public var botTextMismatches = 0

    public init() {}

    /// Engine seconds per second of audio (below 1 is faster than real time).
    public var realTimeFactor: Double { audioMs > 0 ? engineSeconds / (Double(audioMs) / 1000) : 0 }
    /// Unseal + decode + resample as a share of engine time.
    public var overheadShare: Double { engineSeconds > 0 ? prepareSeconds / engineSeconds : 0 }
    public var jobs: Int { done + failed + dead + cancelled + deferred + leaseLost }

    public mutating func add(_ report: TranscriptionWorker.Report) {
        switch report.outcome {
        case .done: done += 1
        case .failed: failed += 1
        case .dead: dead += 1
        case .cancelled: cancelled += 1
        case .deferred: deferred += 1
        case .leaseLost: leaseLost += 1
        }
        audioMs += report.audioMs
        prepareSeconds += report.prepareSeconds
        engineSeconds += report.engineSeconds
        botTextSegments += report.botTextSegments
        botTextUnspoken += report.botTextUnspoken
        botTextMismatches += report.botTextMismatches
    }
}
