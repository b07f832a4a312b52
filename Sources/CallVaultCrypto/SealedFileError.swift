/// An error reading or writing a sealed recording file (`.cvr`), naming the file and segment.
///
/// Codes are stable for programs (e.g. `callvault verify --json`) to switch on; messages never
/// contain plaintext or key bytes. See `docs/cvr-format.md` for which check raises which code.
public struct SealedFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The file does not exist (the caller decides whether that means `missing`).
        case fileNotFound
        /// Opening, reading, writing or syncing failed at the OS level (errno in the message).
        case ioFailed
        /// The writer's target file already exists; sealed files are never overwritten.
        case fileExists
        /// The file does not start with the `CVRF` magic.
        case notASealedFile
        /// The format version is newer than this code understands.
        case unsupportedVersion
        /// The file ends inside its header (a crash right after it was created).
        case truncatedHeader
        /// A header field is malformed, out of range, or inconsistent between parts.
        case headerCorrupt
        /// The header names another tenant than the caller expects.
        case wrongTenant
        /// The header names another recording than the caller expects.
        case wrongRecording
        /// The data key offered is not the key this file was sealed with.
        case keyCommitmentMismatch
        /// The header's MAC does not verify: a header field was changed.
        case headerTampered
        /// A segment's frame is malformed: reserved flag bits, or a length above the header's maximum.
        case malformedSegment
        /// The file ends inside a segment.
        case truncatedSegment
        /// The file ends at a segment boundary but the recording's `last` segment never came.
        case missingLastSegment
        /// A segment's tag does not verify: its bytes were changed or it comes from another file.
        case segmentAuthenticationFailed
        /// A segment index was skipped: a segment (or part) was removed.
        case segmentMissing
        /// A segment appears before one with a lower index: segments were swapped.
        case segmentReordered
        /// A segment index appears a second time.
        case segmentDuplicated
        /// Bytes follow the `last` segment.
        case trailingData
        /// A part other than the final one holds a `last` segment, or a part follows the last one.
        case lastSegmentNotFinal
        /// A part's number is not its position among the recording's parts.
        case partOutOfOrder
        /// The writer was given metadata the format cannot hold (empty or over-long ids, bad sizes).
        case invalidMetadata
        /// A plaintext is larger than the writer's maximum segment size.
        case segmentTooLarge
        /// The recording already has 2^32 segments.
        case tooManySegments
        /// The writer already wrote its `last` segment, was closed, or failed earlier.
        case writerClosed
        /// A key derivation or cipher call failed for a reason other than authentication.
        case cryptoFailed
    }

    public let code: Code
    public let message: String
    /// The file concerned, if any.
    public let path: String?
    /// The segment index concerned, if any.
    public let segmentIndex: UInt32?

    public init(_ code: Code, _ message: String, path: String? = nil, segmentIndex: UInt32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.segmentIndex = segmentIndex
    }

    public var description: String {
        var text = message
        if let segmentIndex { text += " (segment \(segmentIndex))" }
        if let path { text += " in \(path)" }
        return text
    }
}
