import CLibCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one part of a sealed recording: a header, then one sealed segment per `append`.
///
/// Everything a segment needs is allocated in `init` — the cipher context, the frame buffer of
/// `9 + maxSegmentByteCount + 16` bytes, the nonce and associated-data buffers — so `append` copies
/// the plaintext into the frame buffer, seals it in place and hands it to one `write(2)`: no heap
/// allocation per segment. The file is opened `O_APPEND|O_CREAT|O_EXCL` with mode 0600: an existing
/// file is never overwritten, and nothing already written is ever rewritten.
///
/// Not thread-safe: one writer per track, used from one thread at a time.
public final class SealedFileWriter {
    public let path: String
    public let header: SealedFileHeader
    /// The index the next `append` will use.
    public private(set) var nextSegmentIndex: UInt64
    /// True once the `last` segment was written.
    public private(set) var isFinished = false
    /// Bytes written so far, header included.
    public private(set) var byteCount: Int

    /// errno of the last failed segment write (`ENOSPC`, `EIO`, ...), 0 if none failed.
    public private(set) var lastWriteErrno: Int32 = 0
    /// True once the writer refuses appends for good: sealing failed, a sync failed, or a failed write's
    /// torn tail could not be cut off. A failed write whose tail was cut off leaves the writer usable.
    public var isFailed: Bool { failed }

    private var fd: Int32
    private var failed = false
    /// The directory entry of a new file is durable only once its directory was synced (first `sync`).
    private var directorySynced = false
    private let gcm: AESGCM
    private let frame: UnsafeMutableRawBufferPointer
    private let nonce: UnsafeMutableRawBufferPointer
    private let aad: UnsafeMutableRawBufferPointer
    private let maxSegment: Int

    /// Creates `path` and writes the header.
    /// - Parameters:
    ///   - dataKey: the recording's 32-byte data key; the file key is derived from it and a fresh salt.
    ///   - maxSegmentByteCount: the largest plaintext one `append` accepts (default 64 KiB; one
    ///     second of 16 kHz PCM16 is 32 000 bytes).
    public init(
        path: String, dataKey: SecretKey, metadata: SealedFileMetadata, maxSegmentByteCount: Int = 64 * 1024
    ) throws(SealedFileError) {
        guard maxSegmentByteCount >= 1, maxSegmentByteCount <= SealedFileHeader.maximumSegmentByteLimit else {
            throw SealedFileError(
                .invalidMetadata,
                "the maximum segment size must be 1...\(SealedFileHeader.maximumSegmentByteLimit) bytes, not \(maxSegmentByteCount)",
                path: path)
        }
        let salt: [UInt8], prefix: [UInt8]
        do throws(CryptoError) {
            salt = try SecureRandom.bytes(32)
            prefix = try SecureRandom.bytes(SealedFileHeader.noncePrefixByteCount)
        } catch {
            throw SealedFileError(.cryptoFailed, "no random salt: \(error.message)", path: path)
        }
        let keys = try SealedFileKeys(dataKey: dataKey, salt: salt, path: path)
        var header = SealedFileHeader(
            metadata: metadata, maxSegmentByteCount: UInt32(maxSegmentByteCount), noncePrefix: prefix, salt: salt,
            keyCommitment: keys.commitment, headerMAC: [UInt8](repeating: 0, count: 32))
        try header.validate(path: path)
        header.headerMAC = keys.headerMAC(for: header)
        let headerBytes = try header.encoded()
        do throws(CryptoError) { gcm = try AESGCM(key: keys.fileKey) } catch {
            throw SealedFileError(.cryptoFailed, "cipher set-up failed: \(error.message)", path: path)
        }

        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw SealedFileError(
                code == EEXIST ? .fileExists : .ioFailed, "cannot create sealed file: \(FileIO.describe(code))",
                path: path)
        }
        let written = headerBytes.withUnsafeBytes { FileIO.writeAll(fd, $0.baseAddress!, $0.count) }
        guard written == 0 else {
            closeDescriptor(fd)
            throw SealedFileError(.ioFailed, "cannot write the header: \(FileIO.describe(written))", path: path)
        }

        self.path = path
        self.header = header
        self.fd = fd
        self.maxSegment = maxSegmentByteCount
        self.nextSegmentIndex = UInt64(metadata.firstSegmentIndex)
        self.byteCount = headerBytes.count
        self.frame = .allocate(byteCount: 9 + maxSegmentByteCount + AESGCM.tagByteCount, alignment: 16)
        self.nonce = .allocate(byteCount: AESGCM.nonceByteCount, alignment: 8)
        self.aad = .allocate(byteCount: 37, alignment: 8)
        let nonceBuffer = nonce
        prefix.withUnsafeBytes { nonceBuffer.copyMemory(from: $0) }
        let aadBuffer = aad
        headerBytes.withUnsafeBytes { Digest.sha256($0, into: aadBuffer) }
    }

    deinit {
        if fd >= 0 { closeDescriptor(fd) }
        // The frame buffer held plaintext before it was sealed in place.
        OPENSSL_cleanse(frame.baseAddress, frame.count)
        frame.deallocate()
        nonce.deallocate()
        aad.deallocate()
    }

    /// Seals `plaintext` as the next segment and writes it with one `write(2)`.
    ///
    /// Not durable until `sync()`. After a failed write (`ioFailed`, errno in ``lastWriteErrno``) the file
    /// is cut back to its last whole segment and the same segment index is used by the next append, so a
    /// caller may drop the segment and go on once the disk takes writes again; if the cut itself fails
    /// (``isFailed``), the writer refuses further appends and readers see a torn tail.
    /// - Parameter last: marks the recording's final segment; no append is accepted after it.
    public func append(_ plaintext: UnsafeRawBufferPointer, last: Bool) throws(SealedFileError) {
        guard !isFinished, !failed, fd >= 0 else {
            throw SealedFileError(.writerClosed, "the writer is finished, closed or failed", path: path)
        }
        let n = plaintext.count
        guard n <= maxSegment else {
            throw SealedFileError(
                .segmentTooLarge, "a \(n)-byte segment exceeds the maximum of \(maxSegment)", path: path)
        }
        guard nextSegmentIndex <= UInt64(UInt32.max) else {
            throw SealedFileError(.tooManySegments, "a recording holds at most 2^32 segments", path: path)
        }
        let index = UInt32(nextSegmentIndex)
        let flags: UInt8 = last ? 1 : 0
        let base = frame.baseAddress!
        Self.storeBigEndian(UInt32(n), at: base)
        Self.storeBigEndian(index, at: base + 4)
        base.storeBytes(of: flags, toByteOffset: 8, as: UInt8.self)
        if n > 0 { (base + 9).copyMemory(from: plaintext.baseAddress!, byteCount: n) }
        Self.storeBigEndian(index, at: nonce.baseAddress! + 7)
        nonce.storeBytes(of: flags, toByteOffset: 11, as: UInt8.self)
        Self.storeBigEndian(index, at: aad.baseAddress! + 32)
        aad.storeBytes(of: flags, toByteOffset: 36, as: UInt8.self)
        do throws(CryptoError) {
            try gcm.seal(
                inPlace: UnsafeMutableRawBufferPointer(start: base + 9, count: n),
                nonce: UnsafeRawBufferPointer(nonce), aad: UnsafeRawBufferPointer(aad),
                tag: UnsafeMutableRawBufferPointer(start: base + 9 + n, count: AESGCM.tagByteCount))
        } catch {
            failed = true
            throw SealedFileError(.cryptoFailed, "sealing failed: \(error.message)", path: path, segmentIndex: index)
        }
        let total = 9 + n + AESGCM.tagByteCount
        let result = WriteFault.injected() ?? FileIO.writeAll(fd, base, total)
        guard result == 0 else {
            lastWriteErrno = result
            // A write cut short (a full disk takes what fits) leaves part of a frame at the end: cut it
            // off, so the file ends at its last whole segment and this index may be written again later
            // (a disk that fills and frees again). Only if that fails is the writer done for good.
            if ftruncate(fd, off_t(byteCount)) != 0 { failed = true }
            throw SealedFileError(
                .ioFailed, "writing failed: \(FileIO.describe(result))", path: path, segmentIndex: index)
        }
        byteCount += total
        nextSegmentIndex += 1
        if last { isFinished = true }
    }

    /// Writes an empty `last` segment unless the last one was already written.
    public func finish() throws(SealedFileError) {
        if isFinished { return }
        try append(UnsafeRawBufferPointer(start: nil, count: 0), last: true)
    }

    /// Makes everything appended so far durable (`fdatasync`); the first call also syncs the
    /// directory, so that the new file itself survives a power loss.
    public func sync() throws(SealedFileError) {
        guard fd >= 0 else { throw SealedFileError(.writerClosed, "the writer is closed", path: path) }
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            let code = errno
            failed = true
            throw SealedFileError(.ioFailed, "fdatasync failed: \(FileIO.describe(code))", path: path)
        }
        if !directorySynced {
            try syncDirectory()
            directorySynced = true
        }
    }

    private func syncDirectory() throws(SealedFileError) {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else {
            throw SealedFileError(.ioFailed, "cannot open the file's directory to sync it: \(FileIO.describe(errno))", path: path)
        }
        defer { closeDescriptor(dirFD) }
        while fsync(dirFD) != 0 {
            if errno == EINTR { continue }
            throw SealedFileError(.ioFailed, "syncing the file's directory failed: \(FileIO.describe(errno))", path: path)
        }
    }

    /// Syncs and closes the file. Does not write `last`: call `finish()` first for a complete recording.
    public func close() throws(SealedFileError) {
        guard fd >= 0 else { return }
        defer {
            closeDescriptor(fd)
            fd = -1
        }
        try sync()
    }

    @inline(__always)
    private static func storeBigEndian(_ value: UInt32, at pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: value.bigEndian, as: UInt32.self)
    }
}

/// `close(2)`, outside the class whose `close()` method would shadow it.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
