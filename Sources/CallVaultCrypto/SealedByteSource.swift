/// Where a ``SealedFileReader`` reads a sealed file's bytes from: a file descriptor
/// (``SealedFileSource``) or anything else that can hand out bytes in order, such as an object in a
/// bucket read by ranged GETs (`CallVaultObjects.ObjectByteSource`).
///
/// The reader needs only sequential reads and a forward skip (to look further ahead after a misplaced
/// segment), so a source never has to seek back or hold the whole file. Calls are synchronous and
/// come from one thread at a time. Class-bound so the reader calls it through one reference, without
/// copying or allocating per segment.
public protocol SealedByteSource: AnyObject {
    /// Reads up to `count` bytes into `buffer`, advancing past them. Returns how many were read —
    /// fewer than `count` only at the end of the file — or a negative value when reading failed
    /// (then ``failureCode`` and ``failureReason`` say why).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int

    /// Moves forward `count` bytes without reading them; false when that failed. Skipping past the
    /// end is not a failure: the next read returns 0.
    func skip(_ count: Int) -> Bool

    /// The code a failed read is reported with: `.ioFailed`, or `.fileNotFound` when the file or
    /// object turned out to be gone.
    var failureCode: SealedFileError.Code { get }

    /// Why the last read or skip failed, for the error message: an errno's text or the store's
    /// message. Never file bytes or secrets.
    var failureReason: String { get }
}
