/// Where a recording is in its life: written live, closed cleanly, cut by a crash, or destroyed.
public enum RecordingState: String, Sendable, Codable, CaseIterable {
    /// The recorder is appending segments.
    case recording
    /// The last segment was written and the file closed.
    case complete
    /// The process stopped mid-call; the audio up to the last durable segment is still readable.
    case interrupted
    /// Its keys were destroyed: the ciphertext, wherever it is, can no longer be read.
    case shredded
}
