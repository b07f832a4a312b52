public import CallVaultModel
public import Foundation

/// What one sweep at `now` must destroy: computed from durable state only, so a sweep killed at any
/// point and run again computes the rest of the same work.
public struct SweepPlan: Sendable {
    /// The instant expiry is evaluated at (the clock, or `sweep --now`).
    public let now: Date
    /// The first UTC day that is kept: day keys of earlier days are destroyed.
    public let firstKeptDay: CalendarDay
    /// Recordings whose voice retention has ended, not held and not yet shredded, oldest first.
    public let recordings: [RecordingRecord]
    /// Transcripts whose retention has ended, not yet shredded.
    public let transcripts: [TranscriptRecord]
    /// Day keys (voice and transcript) whose day has passed, with the data keys under them.
    public let dayKeys: [DestroyedKey]

    public init(
        now: Date, firstKeptDay: CalendarDay, recordings: [RecordingRecord], transcripts: [TranscriptRecord] = [],
        dayKeys: [DestroyedKey]
    ) {
        self.now = now
        self.firstKeptDay = firstKeptDay
        self.recordings = recordings
        self.transcripts = transcripts
        self.dayKeys = dayKeys
    }

    /// True when there is nothing to destroy.
    public var isEmpty: Bool { recordings.isEmpty && transcripts.isEmpty && dayKeys.isEmpty }
}
