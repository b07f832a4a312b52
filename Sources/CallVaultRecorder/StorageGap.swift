public import CallVaultModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stretch of one track's recording that the data disk did not take: its segments' writes failed
/// (`ENOSPC`, `EIO`, ...), so their audio was dropped, and the recording went on in the same file once
/// writes succeeded again (the segments' own timestamps show the gap to readers and exports).
public struct StorageGap: Sendable, Equatable {
    public let recordingID: String
    public let track: RecordingTrack
    /// errno of the first failed write.
    public let errno: Int32
    /// Milliseconds of audio recorded before the gap.
    public let afterMs: Int64
    /// Audio lost in the gap (whole segments that could not be written).
    public internal(set) var lostMs: Int64
    /// Segments lost in the gap.
    public internal(set) var segments: Int

    /// `diskFull` (`ENOSPC`, `EDQUOT`) or `ioError` (anything else, `EIO` first): what the log, the audit
    /// entry and the webhook say.
    public var reason: String { Self.reason(errno) }

    /// The reason word for a write's errno.
    public static func reason(_ code: Int32) -> String {
        code == ENOSPC || code == EDQUOT ? "diskFull" : "ioError"
    }
}
