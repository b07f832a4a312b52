/// The state of a transcription job in the leased queue.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case done
    case failed
    /// Failed more often than the retry limit allows: kept with its last error for an operator.
    case dead
    case cancelled
}
