/// The plaintext, authenticated header of a `.cvr` file (layout in `docs/cvr-format.md`).
///
/// The header carries what a reader needs before it decrypts anything: who the file belongs to
/// (checked against the catalog), which key sealed it (key commitment), and the nonce prefix and
/// salt of this part. Its MAC is checked before any segment is read, and its SHA-256 is part of
/// every segment's associated data, so a changed header can never pass as the original.
public struct SealedFileHeader: Sendable, Equatable {
    /// `CVRF`.
    public static let magic: [UInt8] = [0x43, 0x56, 0x52, 0x46]
    /// The format version this code writes and reads.
    public static let currentVersion: UInt8 = 1
    /// Magic, version, kind and header length: enough to know how many bytes to read next.
    public static let fixedPrefixByteCount = 8
    public static let maximumByteCount = 4096
    public static let noncePrefixByteCount = 7
    public static let saltByteCounts = 16...32
    public static let commitmentByteCount = 32
    public static let macByteCount = 32
    public static let maximumIDByteCount = 255
    /// Largest segment plaintext a header may declare.
    public static let maximumSegmentByteLimit = 16 * 1024 * 1024

    public var version: UInt8
    public var metadata: SealedFileMetadata
    /// The largest plaintext in one segment of this file; readers refuse larger length fields.
    public var maxSegmentByteCount: UInt32
    public var noncePrefix: [UInt8]
    public var salt: [UInt8]
    public var keyCommitment: [UInt8]
    public var headerMAC: [UInt8]

    public init(
        version: UInt8 = currentVersion, metadata: SealedFileMetadata, maxSegmentByteCount: UInt32,
        noncePrefix: [UInt8], salt: [UInt8], keyCommitment: [UInt8], headerMAC: [UInt8]
    ) {
        self.version = version
        self.metadata = metadata
        self.maxSegmentByteCount = maxSegmentByteCount
        self.noncePrefix = noncePrefix
        self.salt = salt
        self.keyCommitment = keyCommitment
        self.headerMAC = headerMAC
    }

    /// Checks that the fields fit the format; the writer calls it before creating a file.
    public func validate(path: String? = nil) throws(SealedFileError) {
        func fail(_ what: String) -> SealedFileError { SealedFileError(.invalidMetadata, what, path: path) }
        for (name, id) in [("tenant id", metadata.tenantID), ("recording id", metadata.recordingID),
                           ("key id", metadata.keyID)]
        where id.utf8.isEmpty || id.utf8.count > Self.maximumIDByteCount {
            throw fail("the \(name) must be 1...\(Self.maximumIDByteCount) UTF-8 bytes, not \(id.utf8.count)")
        }
        guard maxSegmentByteCount >= 1, maxSegmentByteCount <= Self.maximumSegmentByteLimit else {
            throw fail("the maximum segment size must be 1...\(Self.maximumSegmentByteLimit) bytes, not \(maxSegmentByteCount)")
        }
        guard (1...8).contains(metadata.channels) else { throw fail("channels must be 1...8, not \(metadata.channels)") }
        guard noncePrefix.count == Self.noncePrefixByteCount else { throw fail("the nonce prefix must be 7 bytes") }
        guard Self.saltByteCounts.contains(salt.count) else { throw fail("the salt must be 16...32 bytes") }
        guard keyCommitment.count == Self.commitmentByteCount, headerMAC.count == Self.macByteCount else {
            throw fail("the key commitment and header MAC must be 32 bytes each")
        }
    }

    /// Every header byte except the trailing MAC: what the MAC is computed over.
    func encodedWithoutMAC() -> [UInt8] {
        let idBytes = [metadata.tenantID, metadata.recordingID, metadata.keyID].reduce(0) { $0 + 2 + $1.utf8.count }
        let total = 44 + salt.count + idBytes + Self.commitmentByteCount + Self.macByteCount
        var e = ByteEncoder()
        e.bytes.reserveCapacity(total)
        e.raw(Self.magic)
        e.u8(version)
        e.u8(metadata.kind.rawValue)
        e.u16(UInt16(total))
        e.u32(metadata.partNumber)
        e.u32(metadata.firstSegmentIndex)
        e.u32(maxSegmentByteCount)
        e.u8(metadata.codec.rawValue)
        e.u8(metadata.channels)
        e.u32(metadata.sampleRate)
        e.u16(metadata.frameDurationMs)
        e.u64(UInt64(bitPattern: metadata.createdAtMs))
        e.raw(noncePrefix)
        e.u8(UInt8(salt.count))
        e.raw(salt)
        e.string(metadata.tenantID)
        e.string(metadata.recordingID)
        e.string(metadata.keyID)
        e.raw(keyCommitment)
        return e.bytes
    }

    /// The header's bytes as stored at the start of the file.
    public func encoded() throws(SealedFileError) -> [UInt8] {
        try validate()
        return encodedWithoutMAC() + headerMAC
    }

    /// The total header length announced by its first 8 bytes, after checking magic and version.
    public static func byteCount(fromPrefix prefix: [UInt8], path: String? = nil) throws(SealedFileError) -> Int {
        guard prefix.count >= fixedPrefixByteCount, Array(prefix[0..<4]) == magic else {
            throw SealedFileError(.notASealedFile, "the file does not start with the CVRF magic", path: path)
        }
        guard prefix[4] == currentVersion else {
            throw SealedFileError(
                .unsupportedVersion, "format version \(prefix[4]) is not supported (this build reads \(currentVersion))",
                path: path)
        }
        let length = Int(prefix[6]) << 8 | Int(prefix[7])
        guard length >= 44 + 16 + 9 + 64, length <= maximumByteCount else {
            throw SealedFileError(.headerCorrupt, "header length \(length) is out of range", path: path)
        }
        return length
    }

    /// Parses a complete header (exactly its announced length). Does not verify MAC or commitment.
    public static func decode(_ bytes: [UInt8], path: String? = nil) throws(SealedFileError) -> SealedFileHeader {
        let length = try byteCount(fromPrefix: bytes, path: path)
        guard bytes.count == length else {
            throw SealedFileError(.headerCorrupt, "header is \(bytes.count) bytes, it announces \(length)", path: path)
        }
        var d = ByteDecoder(bytes, path: path)
        _ = try d.take(5, "magic")
        let kindRaw = try d.u8("kind")
        guard let kind = SealedFileMetadata.Kind(rawValue: kindRaw) else {
            throw SealedFileError(.headerCorrupt, "unknown kind \(kindRaw)", path: path)
        }
        _ = try d.u16("length")
        let part = try d.u32("part number"), first = try d.u32("first index"), maxSegment = try d.u32("max segment")
        let codecRaw = try d.u8("codec")
        guard let codec = SealedFileMetadata.Codec(rawValue: codecRaw) else {
            throw SealedFileError(.headerCorrupt, "unknown codec \(codecRaw)", path: path)
        }
        let channels = try d.u8("channels"), rate = try d.u32("sample rate"), frame = try d.u16("frame duration")
        let created = Int64(bitPattern: try d.u64("creation time"))
        let prefix = Array(try d.take(noncePrefixByteCount, "nonce prefix"))
        let saltCount = Int(try d.u8("salt length"))
        guard saltByteCounts.contains(saltCount) else {
            throw SealedFileError(.headerCorrupt, "salt length \(saltCount) is out of range", path: path)
        }
        let salt = Array(try d.take(saltCount, "salt"))
        let tenant = try d.string("tenant id"), recording = try d.string("recording id"), key = try d.string("key id")
        let commitment = Array(try d.take(commitmentByteCount, "key commitment"))
        let mac = Array(try d.take(macByteCount, "header MAC"))
        guard d.offset == length else {
            throw SealedFileError(.headerCorrupt, "header has \(length - d.offset) unexplained bytes", path: path)
        }
        let header = SealedFileHeader(
            metadata: SealedFileMetadata(
                kind: kind, tenantID: tenant, recordingID: recording, keyID: key, codec: codec, sampleRate: rate,
                channels: channels, frameDurationMs: frame, createdAtMs: created, partNumber: part,
                firstSegmentIndex: first),
            maxSegmentByteCount: maxSegment, noncePrefix: prefix, salt: salt, keyCommitment: commitment,
            headerMAC: mac)
        do throws(SealedFileError) { try header.validate(path: path) } catch {
            throw SealedFileError(.headerCorrupt, error.message, path: path)
        }
        return header
    }
}
