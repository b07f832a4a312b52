public import CallVaultArchive
public import CallVaultModel
public import CallVaultStore
public import Foundation

/// A track's recording before its catalog row exists: its id, file path and creation time, fixed up
/// front so the row can be written off the thread that records (an event loop must not wait for a
/// network catalog) and the file opened there once the row is stored.
public struct NewRecording: Sendable {
    public let recordingID: String
    public let callID: String
    public let track: RecordingTrack
    public let codec: StorageCodec
    public let sampleRate: Int
    /// The sealed file's path relative to the data directory (tenant, UTC day, id).
    public let relativePath: String
    public let createdAt: Date

    /// - Parameter codec: the concrete storage codec (resolve `native` first).
    public init(
        tenantID: String, callID: String, track: RecordingTrack, codec: StorageCodec, sampleRate: Int,
        frameDurationMs: Int = 20, createdAt: Date = Date()
    ) throws(RecorderError) {
        guard RecordingWriter.sealedCodec(codec) != nil else {
            throw RecorderError(
                .invalidArgument, "a recording's codec must be concrete (opus, pcm16, g711u, g711a), not native")
        }
        guard sampleRate > 0, sampleRate <= Int(UInt32.max), (1...1000).contains(frameDurationMs) else {
            throw RecorderError(.invalidArgument, "sample rate must be positive and the frame duration 1...1000 ms")
        }
        recordingID = UUID().uuidString.lowercased()
        self.callID = callID
        self.track = track
        self.codec = codec
        self.sampleRate = sampleRate
        self.createdAt = createdAt
        let day = CalendarDay(secondsSince1970: Int64(self.createdAt.timeIntervalSince1970.rounded(.down)))
        relativePath = RecordingFiles.relativePath(tenantID: tenantID, day: day, recordingID: recordingID)
    }

    /// Creates the row (state `recording`) on the SQLite catalog, inline.
    public func createRow(in catalog: Catalog) throws(CatalogError) -> RecordingRecord {
        try catalog.createRecording(
            id: recordingID, callID: callID, track: track, codec: codec, sampleRate: sampleRate, path: relativePath,
            createdAt: createdAt)
    }

    /// Creates the row (state `recording`) on any catalog, owned by the serve `node` recording it.
    /// With `storage` `spooled`, the file goes to an object store once the recording is closed.
    public func createRow(in store: any CatalogStore, node: String?, storage: SealedStorage? = nil)
        async throws(CatalogError) -> RecordingRecord
    {
        try await store.createRecording(
            id: recordingID, callID: callID, track: track, codec: codec, sampleRate: sampleRate, path: relativePath,
            createdAt: createdAt, node: node, storage: storage)
    }
}
