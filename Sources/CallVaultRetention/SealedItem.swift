public import CallVaultModel

/// A recording or a transcript as the shredder sees it: an owner of one data key and of sealed files.
public struct SealedItem: Sendable, Equatable {
    /// A recording or a transcript: the same two kinds the upload reconciler knows.
    public typealias Kind = SpooledFile.Kind

    public let kind: Kind
    public let id: String
    public let tenantID: String
    /// The first part's path, relative to the data directory (or absolute).
    public let path: String

    public init(kind: Kind, id: String, tenantID: String, path: String) {
        self.kind = kind
        self.id = id
        self.tenantID = tenantID
        self.path = path
    }

    public init(_ recording: RecordingRecord) {
        self.init(kind: .recording, id: recording.id, tenantID: recording.tenantId, path: recording.path)
    }

    public init(_ transcript: TranscriptRecord) {
        self.init(kind: .transcript, id: transcript.id, tenantID: transcript.tenantId, path: transcript.path)
    }
}
