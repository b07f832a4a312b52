public import Foundation

/// What one sweep did (or, in a dry run, would do): the summary line and `sweep --json`.
public struct SweepReport: Sendable, Codable, Equatable {
    /// One recording the sweep could not finish; the next sweep retries it.
    public struct Failure: Sendable, Codable, Equatable {
        /// The recording's or transcript's id.
        public let recordingID: String
        public let reason: String
    }

    public var now: Date
    public var dryRun: Bool
    /// Recordings marked `shredded` (in a dry run: that would be).
    public var recordingsShredded: [String] = []
    /// Transcripts marked `shredded` (in a dry run: that would be).
    public var transcriptsShredded: [String] = []
    public var dayKeysDestroyed = 0
    /// Data keys destroyed with their day keys plus those destroyed one by one at their recording's expiry.
    public var dataKeysDestroyed = 0
    public var filesDeleted = 0
    public var bytesFreed: Int64 = 0
    public var failures: [Failure] = []
    /// Expired day keys the key provider could not destroy (tenant, kind, day, the provider's error): their
    /// data stays unreadable-in-waiting and the next sweep tries again.
    public var keyFailures: [String] = []
    /// Provider keys of day keys replaced by erasures, destroyed by this sweep (their erasure could not).
    public var replacedDayKeysDestroyed = 0
    /// Finished transcription jobs moved out of the live queue under the sweeper lease (PostgreSQL only;
    /// 0 on SQLite, which keeps jobs in place).
    public var jobsArchived = 0

    public init(now: Date, dryRun: Bool) {
        self.now = now
        self.dryRun = dryRun
    }

    /// One line for logs and the terminal; ids only, never content.
    public var summary: String {
        let verb = dryRun ? "would shred" : "shredded"
        return "sweep: \(verb) \(recordingsShredded.count) recording(s), \(transcriptsShredded.count) transcript(s), "
            + "\(dayKeysDestroyed) day key(s), "
            + "\(dataKeysDestroyed) data key(s), \(filesDeleted) file(s), \(bytesFreed) bytes; "
            + "\(failures.count) failure(s)"
            + (keyFailures.isEmpty ? "" : "; \(keyFailures.count) day key(s) the key provider could not destroy")
            + (jobsArchived == 0 ? "" : "; archived \(jobsArchived) finished job(s)")
    }
}
