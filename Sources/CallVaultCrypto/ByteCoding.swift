/// Big-endian field encoding for the `.cvr` header (off the hot path; may allocate).
struct ByteEncoder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xff)] }
    mutating func u32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
    mutating func u64(_ v: UInt64) {
        u32(UInt32(v >> 32))
        u32(UInt32(v & 0xffff_ffff))
    }
    mutating func raw(_ v: [UInt8]) { bytes += v }
    /// `u16 length ‖ UTF-8`.
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u16(UInt16(utf8.count))
        bytes += utf8
    }
}

/// Bounds-checked big-endian reading; running past the end is a corrupt header, never a crash.
struct ByteDecoder {
    let bytes: [UInt8]
    var offset = 0
    let path: String?

    init(_ bytes: [UInt8], path: String?) {
        self.bytes = bytes
        self.path = path
    }

    mutating func take(_ n: Int, _ field: String) throws(SealedFileError) -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else {
            throw SealedFileError(.headerCorrupt, "header ends inside its \(field) field", path: path)
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func u8(_ field: String) throws(SealedFileError) -> UInt8 { try take(1, field).first! }
    mutating func u16(_ field: String) throws(SealedFileError) -> UInt16 {
        try take(2, field).reduce(0) { $0 << 8 | UInt16($1) }
    }
    mutating func u32(_ field: String) throws(SealedFileError) -> UInt32 {
        try take(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64(_ field: String) throws(SealedFileError) -> UInt64 {
        try take(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func string(_ field: String) throws(SealedFileError) -> String {
        let n = Int(try u16(field))
        let utf8 = try take(n, field)
        guard let s = String(validating: utf8, as: UTF8.self) else {
            throw SealedFileError(.headerCorrupt, "header field \(field) is not valid UTF-8", path: path)
        }
        return s
    }
}
