#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sealed file read from a file descriptor this source opened and owns (closed on release).
///
/// Reads are `read(2)` loops straight into the caller's buffer: no copy and no allocation per call,
/// which keeps ``SealedFileReader``'s per-segment path as cheap as reading the descriptor itself.
public final class SealedFileSource: SealedByteSource {
    public let path: String
    private let fd: Int32
    /// The errno of the last failed call (0 until one failed).
    private var lastErrno: Int32 = 0

    /// Opens `path` for reading: `.fileNotFound` when it does not exist, `.ioFailed` otherwise.
    public init(path: String) throws(SealedFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw SealedFileError(
                code == ENOENT ? .fileNotFound : .ioFailed, "cannot open sealed file: \(FileIO.describe(code))",
                path: path)
        }
        self.fd = fd
        self.path = path
    }

    deinit { closeDescriptor(fd) }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        let got = FileIO.readFully(fd, buffer, count)
        if got < 0 { lastErrno = Int32(-got) }
        return got
    }

    public func skip(_ count: Int) -> Bool {
        guard lseek(fd, off_t(count), SEEK_CUR) >= 0 else {
            lastErrno = errno
            return false
        }
        return true
    }

    public var failureCode: SealedFileError.Code { .ioFailed }

    public var failureReason: String { FileIO.describe(lastErrno) }
}
