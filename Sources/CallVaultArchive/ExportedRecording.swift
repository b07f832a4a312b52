public import CallVaultModel

/// A recording unsealed in memory and decoded to 16-bit PCM: what export writes to a file.
///
/// The samples exist only in this process's memory; whoever holds this value holds the audio.
public struct ExportedRecording: Sendable {
    /// The catalog row (state, codec, call, tenant).
    public let recording: RecordingRecord
    /// Samples per second of `samples`.
    public let sampleRate: Int
    /// Mono PCM16 samples of every verified segment, in order.
    public let samples: [Int16]
    /// Segments that verified.
    public let segmentCount: Int
    /// Part files read.
    public let partCount: Int
    /// Whether the recording ended with its `last` segment (false for an interrupted one).
    public let isComplete: Bool
    /// The audit entry of the decryption.
    public let auditSeq: Int64
    /// Whether the recording was restricted and decrypted by an audited ``RestrictionOverride``.
    public let restrictionOverridden: Bool

    /// Milliseconds of audio in `samples`.
    public var durationMs: Int64 { sampleRate > 0 ? Int64(samples.count) * 1000 / Int64(sampleRate) : 0 }
}
