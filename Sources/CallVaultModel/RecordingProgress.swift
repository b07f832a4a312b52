/// How much of one recording is durable (see `Catalog.updateRecordingProgress(_:)` in `CallVaultStore`).
public struct RecordingProgress: Sendable, Equatable {
    public var recordingID: String
    public var durationMs: Int64
    public var bytes: Int64

    public init(recordingID: String, durationMs: Int64, bytes: Int64) {
        self.recordingID = recordingID
        self.durationMs = durationMs
        self.bytes = bytes
    }
}
