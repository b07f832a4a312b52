import CZlib
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a ZIP archive of STORED (uncompressed) entries, as PKWARE's APPNOTE.TXT describes it:
/// per entry a local file header and the bytes, then the central directory and its end record.
///
/// The archive is built in a temporary file (mode 0600) in the destination's directory and appears
/// under its name only in ``moveIntoPlace(replacing:)``, after ``finish()`` synced it: a failed or abandoned archive
/// leaves no partial file. ZIP64 is not written, so an archive past 4 GiB is refused, not truncated.
/// Audio is already dense, so compression would buy little and cost a dependency.
final class StoredZipWriter {
    /// The largest offset or size a ZIP without ZIP64 can hold (0xFFFFFFFF itself means "see ZIP64").
    static let maxArchiveByteCount: UInt64 = 0xFFFF_FFFE
    /// Entries an end-of-central-directory record can count without ZIP64.
    static let maxEntryCount = 0xFFFE

    private struct Entry {
        let name: [UInt8]
        let crc: UInt32
        let size: UInt32
        let offset: UInt32
    }

    let destination: String
    let temporaryPath: String
    private var descriptor: Int32
    private var offset: UInt64 = 0
    private var entries: [Entry] = []
    /// Finished and synced, not yet moved: ``discard()`` still removes it.
    private var finished = false
    private let dosTime: UInt16
    private let dosDate: UInt16

    /// Creates the temporary file beside `destination`; entries carry `modified` (UTC) as their time.
    init(destination: String, modified: Date) throws(RetentionError) {
        self.destination = destination
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        var template = Array("\(directory)/.\(url.lastPathComponent).partial-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw RetentionError(.outputFailed, "cannot create a file in \(directory): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        temporaryPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = fchmod(fd, 0o600)
        (dosTime, dosDate) = Self.dosDateTime(modified)
    }

    deinit { discard() }

    /// Appends one file. `name` is a relative path with `/` separators (stored as UTF-8).
    func add(_ name: String, _ data: [UInt8]) throws(RetentionError) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 0xFFFF, !name.hasPrefix("/"), !name.contains("..") else {
            throw RetentionError(.outputFailed, "\(name) is not a valid name inside a ZIP archive")
        }
        guard entries.count < Self.maxEntryCount else {
            throw RetentionError(.outputFailed, "the export would hold more than \(Self.maxEntryCount) files, which needs ZIP64 (not supported)")
        }
        let end = offset + 30 + UInt64(nameBytes.count) + UInt64(data.count)
        guard end <= Self.maxArchiveByteCount else { throw Self.tooLarge() }
        let crc = Self.crc32(data)
        var header: [UInt8] = []
        header.reserveCapacity(30 + nameBytes.count)
        Self.put32(0x0403_4b50, &header)
        Self.put16(20, &header)  // version needed: 2.0
        Self.put16(0x0800, &header)  // flags: names are UTF-8
        Self.put16(0, &header)  // method: stored
        Self.put16(dosTime, &header)
        Self.put16(dosDate, &header)
        Self.put32(crc, &header)
        Self.put32(UInt32(data.count), &header)  // compressed size
        Self.put32(UInt32(data.count), &header)  // uncompressed size
        Self.put16(UInt16(nameBytes.count), &header)
        Self.put16(0, &header)  // extra field length
        header += nameBytes
        let entry = Entry(name: nameBytes, crc: crc, size: UInt32(data.count), offset: UInt32(offset))
        try write(header)
        try write(data)
        entries.append(entry)
    }

    /// Writes the central directory and syncs the temporary file; ``moveIntoPlace(replacing:)`` then
    /// gives it its name. No entry can be added afterwards.
    /// - Returns: the archive's size in bytes.
    @discardableResult
    func finish() throws(RetentionError) -> UInt64 {
        let directoryStart = offset
        var directory: [UInt8] = []
        for entry in entries {
            Self.put32(0x0201_4b50, &directory)
            Self.put16(3 << 8 | 20, &directory)  // made by: Unix, 2.0
            Self.put16(20, &directory)
            Self.put16(0x0800, &directory)
            Self.put16(0, &directory)
            Self.put16(dosTime, &directory)
            Self.put16(dosDate, &directory)
            Self.put32(entry.crc, &directory)
            Self.put32(entry.size, &directory)
            Self.put32(entry.size, &directory)
            Self.put16(UInt16(entry.name.count), &directory)
            Self.put16(0, &directory)  // extra
            Self.put16(0, &directory)  // comment
            Self.put16(0, &directory)  // disk number
            Self.put16(0, &directory)  // internal attributes
            Self.put32(UInt32(0o100600) << 16, &directory)  // external: a regular file, rw-------
            Self.put32(entry.offset, &directory)
            directory += entry.name
        }
        let directorySize = directory.count
        guard directoryStart + UInt64(directorySize) + 22 <= Self.maxArchiveByteCount else { throw Self.tooLarge() }
        Self.put32(0x0605_4b50, &directory)
        Self.put16(0, &directory)
        Self.put16(0, &directory)
        Self.put16(UInt16(entries.count), &directory)
        Self.put16(UInt16(entries.count), &directory)
        Self.put32(UInt32(directorySize), &directory)
        Self.put32(UInt32(directoryStart), &directory)
        Self.put16(0, &directory)  // comment length
        try write(directory)
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw RetentionError(.outputFailed, "cannot finish \(temporaryPath): \(reason)")
        }
        descriptor = -1
        finished = true
        return offset
    }

    /// Moves the finished archive to its name. Without `replacing`, an existing file at the
    /// destination is never replaced (`link` fails on it atomically).
    func moveIntoPlace(replacing: Bool) throws(RetentionError) {
        guard finished else { throw RetentionError(.outputFailed, "the archive was not finished") }
        finished = false
        try move(replacing: replacing)
        Self.syncDirectory(of: destination)
    }

    /// Closes and removes the temporary file (nothing happens once it was moved into place).
    func discard() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
            unlink(temporaryPath)
        } else if finished {
            finished = false
            unlink(temporaryPath)
        }
    }

    private func move(replacing: Bool) throws(RetentionError) {
        if replacing {
            guard rename(temporaryPath, destination) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporaryPath)
                throw RetentionError(.outputFailed, "cannot move the export to \(destination): \(reason)")
            }
            return
        }
        if link(temporaryPath, destination) == 0 {
            unlink(temporaryPath)
            return
        }
        let linkError = errno
        if linkError == EEXIST {
            unlink(temporaryPath)
            throw RetentionError(.outputExists, "\(destination) exists; it was not replaced")
        }
        // A file system without hard links: check, then rename (not atomic against a racing writer).
        guard access(destination, F_OK) != 0, rename(temporaryPath, destination) == 0 else {
            let exists = access(destination, F_OK) == 0
            unlink(temporaryPath)
            throw RetentionError(
                exists ? .outputExists : .outputFailed,
                exists ? "\(destination) exists; it was not replaced" : "cannot move the export to \(destination): \(String(cString: strerror(linkError)))")
        }
    }

    private func write(_ bytes: [UInt8]) throws(RetentionError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Self.systemWrite(descriptor, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                discard()
                throw RetentionError(.outputFailed, "cannot write \(temporaryPath): \(reason)")
            }
            done += n
        }
        offset += UInt64(bytes.count)
    }

    /// POSIX `write(2)`, named apart from ``write(_:)``.
    private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(fd, buffer, count)
        #else
            Darwin.write(fd, buffer, count)
        #endif
    }

    private static func tooLarge() -> RetentionError {
        RetentionError(
            .outputFailed,
            "the export would be larger than 4 GiB, which needs ZIP64 (not supported); nothing was written")
    }

    /// CRC-32 (ISO 3309, as ZIP uses it). The corresponding C function is zlib's `crc32`.
    static func crc32(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBufferPointer { buffer in
            var crc = CZlib.crc32(0, nil, 0)
            var start = 0
            while start < buffer.count {
                let count = min(buffer.count - start, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress! + start, uInt(count))
                start += count
            }
            return UInt32(crc)
        }
    }

    /// MS-DOS time and date fields (2-second resolution, years 1980–2107), in UTC.
    static func dosDateTime(_ date: Date) -> (time: UInt16, date: UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = min(max((c.year ?? 1980) - 1980, 0), 127)
        let time = (c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2
        return (UInt16(time), UInt16(year << 9 | (c.month ?? 1) << 5 | (c.day ?? 1)))
    }

    private static func syncDirectory(of path: String) {
        let fd = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    private static func put16(_ value: UInt16, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(value & 0xFF))
        bytes.append(UInt8(value >> 8))
    }

    private static func put32(_ value: UInt32, _ bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}
