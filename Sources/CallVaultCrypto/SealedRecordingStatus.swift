/// The verdict of `SealedRecordingVerifier.verify` on one recording.
///
/// `shredded` is not here: a recording whose key is gone cannot be checked, and the caller (which
/// knows the key store) says so itself.
public enum SealedRecordingStatus: Sendable, Equatable {
    /// Every segment authenticates, indices are contiguous, and the final `last` segment is present.
    case ok
    /// Every segment present authenticates, but the recording stops before its `last` segment
    /// (a crash, or a cut tail — the two cannot be told apart).
    case truncated
    /// A part file is absent.
    case missing(path: String)
    /// Something was changed, moved, swapped, duplicated or removed; the error says what and where.
    case tampered(SealedFileError)

    /// `ok`, `truncated`, `missing` or `tampered`, as `callvault verify --json` prints it.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .truncated: "truncated"
        case .missing: "missing"
        case .tampered: "tampered"
        }
    }
}
