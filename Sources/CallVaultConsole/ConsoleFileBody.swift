import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A response body sent from a file a chunk at a time (``ConsoleHTTPHandler`` writes the next chunk only
/// when the connection has taken the last), instead of held in memory: the subject export's ZIP.
///
/// The file is opened and then unlinked at once (with the private folder it was written in), so nothing is
/// left on disk whether the body is sent, fails half-way or is never sent: the open descriptor keeps the
/// bytes readable until this body goes away, which closes it.
public final class ConsoleFileBody: Sendable {
    /// Bytes read and written per step: small enough that a slow client holds little memory.
    public static let chunkBytes = 64 * 1024

    /// How many bytes the body has (the `content-length`).
    public let count: Int
    private let descriptor: Int32
    /// Where ``next()`` reads from: the bytes already sent.
    private let sent = Mutex(0)

    /// Why a file could not become a body.
    enum Failure: Error {
        case cannotOpen(path: String, errno: Int32)

        var message: String {
            switch self {
            case .cannotOpen(_, let code):
                "the archive was written but could not be opened to send (\(String(cString: strerror(code)))): export again"
            }
        }
    }

    /// Opens `path` for reading, then removes `removing` (the file or its private folder) from the file system.
    init(path: String, removing: URL) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: removing)
            throw .cannotOpen(path: path, errno: code)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            try? FileManager.default.removeItem(at: removing)
            throw .cannotOpen(path: path, errno: code)
        }
        try? FileManager.default.removeItem(at: removing)
        descriptor = fd
        count = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// The bytes at `offset`, at most ``chunkBytes``; empty at the end. `pread` keeps no shared position, so
    /// reads need no lock.
    public func chunk(at offset: Int) throws -> [UInt8] {
        let wanted = max(0, min(Self.chunkBytes, count - offset))
        guard wanted > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let read = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + filled, wanted - filled, off_t(offset + filled))
            }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw POSIXError(POSIXErrorCode(rawValue: read < 0 ? errno : EIO) ?? .EIO) }
            filled += read
        }
        return bytes
    }

    /// The next chunk to send, or nil after the last: the body read once, front to back, in the shape of
    /// ``ConsoleBodyStream/next``, so ``ConsoleHTTPHandler`` sends both with one loop. Throws when a read
    /// fails (the body is then cut).
    public func next() throws -> [UInt8]? {
        try sent.withLock { offset in
            let chunk = try chunk(at: offset)
            offset += chunk.count
            return chunk.isEmpty ? nil : chunk
        }
    }

    /// Every byte, chunk by chunk: for tests, and for a caller that must have the body whole.
    public func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        all.reserveCapacity(count)
        while all.count < count { all += try chunk(at: all.count) }
        return all
    }
}
