/// One part of a sealed recording as ``SealedRecordingReader`` takes it: what to call it, and how to
/// open its bytes when the reader gets to it.
///
/// Opening is deferred so that a long recording holds one open part at a time (one descriptor, one
/// object window), as with part files. Sendable, so a list of parts can be built in async code and
/// read on a thread that may block.
public struct SealedPartSource: Sendable {
    /// What error messages call the part: its path or object key.
    public let name: String
    /// Opens the part; throws `.fileNotFound` when it does not exist, `.ioFailed` when it cannot be read.
    public let open: @Sendable () throws(SealedFileError) -> any SealedByteSource

    public init(name: String, open: @escaping @Sendable () throws(SealedFileError) -> any SealedByteSource) {
        self.name = name
        self.open = open
    }

    /// The part file at `path`.
    public static func file(_ path: String) -> SealedPartSource {
        SealedPartSource(name: path) { () throws(SealedFileError) -> any SealedByteSource in
            try SealedFileSource(path: path)
        }
    }
}
