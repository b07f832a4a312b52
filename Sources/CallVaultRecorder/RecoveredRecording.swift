public import CallVaultModel

/// What start-up recovery found for one recording a crash left open, and what it did.
public struct RecoveredRecording: Sendable, Equatable {
    /// Why the readable part ends where it ends.
    public enum Outcome: String, Sendable, Equatable {
        /// Every segment up to the crash verifies; a torn last write (if any) was ignored.
        case readable
        /// No part file exists (the crash came before the file was created).
        case noFile
        /// The file is in another node's spool, not uploaded yet (a directory with an object store): it
        /// is closed from the catalog's durable progress, and that node uploads the file when it returns.
        case inAnotherSpool
        /// The data key is gone (shredded or never created): nothing can be read.
        case keyUnavailable
        /// A segment failed to verify; what came before it counts, nothing after.
        case damaged
    }

    public let recordingID: String
    public let callID: String
    public let tenantID: String
    public let outcome: Outcome
    /// The state recovery gave it: `complete` when the file was sealed to its `last` segment before
    /// the crash (only the catalog update was lost), else `interrupted`.
    public let state: RecordingState
    /// Part files found (`<id>.cvr`, `<id>.part1.cvr`, ...).
    public let partCount: Int
    /// Segments that verified.
    public let segmentCount: Int
    /// Milliseconds of audio in the verified segments (for Opus, 20 ms per packet, counted without decoding).
    public let durationMs: Int64
    /// Bytes of the part files on disk.
    public let bytes: Int64
    /// How the reader ended (`missingLast`, `tornTail`, `lastSegment`), nil if it did not get that far.
    public let ending: String?
    /// The reader's error code for `damaged`, `keyUnavailable`.
    public let detail: String?
    /// The transcription job queued for the call, nil when nothing was readable.
    public let jobID: String?
}
