import CLibCrypto

/// Reads one part of a sealed recording, segment by segment, releasing only verified plaintext.
///
/// `init` checks, in order: magic and version, the header's tenant and recording against what the
/// caller expects (from the catalog), the key commitment, then the header MAC — all before any
/// segment is read. `next()` then checks each segment's frame, index and tag (see
/// `docs/cvr-format.md` for the error code of every failure). A reader holds one frame buffer and
/// one cipher context and reuses them for every segment. Not thread-safe.
///
/// The bytes come from a ``SealedByteSource``: a file (`init(path:…)`) or any other source, such as
/// an object read by ranged GETs (`init(source:name:…)`); the checks are the same for every source.
public final class SealedFileReader {
    /// What error messages call the file: its path, or the object key it was read from.
    public let path: String
    public let header: SealedFileHeader
    /// Whether this is the recording's final part (only the final part may, and must, end with `last`).
    public let isFinalPart: Bool
    /// Whether a final part without `last` (or with a torn tail) ends reading instead of throwing.
    public let allowIncomplete: Bool
    /// The index the next segment must have.
    public private(set) var nextSegmentIndex: UInt64
    /// How the part ended; nil until the end was reached.
    public private(set) var ending: SealedFileEnding?
    /// Where the next segment's frame starts in the part, in bytes from its first byte: what a reader
    /// notes to come back to a segment with ``seek(toSegment:atOffset:)``.
    public private(set) var nextSegmentOffset: Int

    private let source: any SealedByteSource
    private let gcm: AESGCM
    private let frame: UnsafeMutableRawBufferPointer
    private let nonce: UnsafeMutableRawBufferPointer
    private let aad: UnsafeMutableRawBufferPointer
    private var failure: SealedFileError?

    /// Opens `path` and authenticates its header.
    /// - Parameters:
    ///   - path: the sealed file; `.fileNotFound` when it does not exist.
    ///   - dataKey: the recording's data key (unwrapped from the key store).
    ///   - expectedTenantID: the tenant the catalog says owns this recording.
    ///   - expectedRecordingID: the recording the catalog says this file belongs to.
    ///   - isFinalPart: false for every part but the last of a multi-part recording.
    ///   - allowIncomplete: read an interrupted recording up to its last complete segment.
    public convenience init(
        path: String, dataKey: SecretKey, expectedTenantID: String, expectedRecordingID: String,
        isFinalPart: Bool = true, allowIncomplete: Bool = false
    ) throws(SealedFileError) {
        try self.init(
            source: SealedFileSource(path: path), name: path, dataKey: dataKey, expectedTenantID: expectedTenantID,
            expectedRecordingID: expectedRecordingID, isFinalPart: isFinalPart, allowIncomplete: allowIncomplete)
    }

    /// Reads the sealed file `source` gives, from its first byte, and authenticates its header.
    /// - Parameters:
    ///   - source: the file's bytes; the reader keeps it until it is released.
    ///   - name: what error messages call the file (a path or an object key); becomes ``path``.
    ///   - dataKey, expectedTenantID, expectedRecordingID, isFinalPart, allowIncomplete: as for a path.
    public init(
        source: any SealedByteSource, name: String, dataKey: SecretKey, expectedTenantID: String,
        expectedRecordingID: String, isFinalPart: Bool = true, allowIncomplete: Bool = false
    ) throws(SealedFileError) {
        let path = name
        let headerBytes = try Self.readHeaderBytes(source, path: path)
        let header = try SealedFileHeader.decode(headerBytes, path: path)
        guard header.metadata.tenantID == expectedTenantID else {
            throw SealedFileError(.wrongTenant, "the file belongs to another tenant than expected", path: path)
        }
        guard header.metadata.recordingID == expectedRecordingID else {
            throw SealedFileError(.wrongRecording, "the file belongs to another recording than expected", path: path)
        }
        let keys = try SealedFileKeys(dataKey: dataKey, salt: header.salt, path: path)
        guard ConstantTime.equals(keys.commitment, header.keyCommitment) else {
            throw SealedFileError(
                .keyCommitmentMismatch, "the data key is not the key this file was sealed with", path: path)
        }
        guard ConstantTime.equals(keys.headerMAC(for: header), header.headerMAC) else {
            throw SealedFileError(.headerTampered, "the header MAC does not verify: the header was changed", path: path)
        }
        do throws(CryptoError) { gcm = try AESGCM(key: keys.fileKey) } catch {
            throw SealedFileError(.cryptoFailed, "cipher set-up failed: \(error.message)", path: path)
        }
        self.source = source
        self.path = path
        self.header = header
        self.isFinalPart = isFinalPart
        self.allowIncomplete = allowIncomplete
        self.nextSegmentIndex = UInt64(header.metadata.firstSegmentIndex)
        self.nextSegmentOffset = headerBytes.count
        // Sized from the header only after its MAC verified, so a forged length cannot make us allocate.
        self.frame = .allocate(byteCount: 9 + Int(header.maxSegmentByteCount) + AESGCM.tagByteCount, alignment: 16)
        self.nonce = .allocate(byteCount: AESGCM.nonceByteCount, alignment: 8)
        self.aad = .allocate(byteCount: 37, alignment: 8)
        let nonceBuffer = nonce, aadBuffer = aad
        header.noncePrefix.withUnsafeBytes { nonceBuffer.copyMemory(from: $0) }
        headerBytes.withUnsafeBytes { Digest.sha256($0, into: aadBuffer) }
    }

    deinit {
        OPENSSL_cleanse(frame.baseAddress, frame.count)
        frame.deallocate()
        nonce.deallocate()
        aad.deallocate()
    }

    private static func readHeaderBytes(_ source: any SealedByteSource, path: String) throws(SealedFileError) -> [UInt8] {
        var prefix = [UInt8](repeating: 0, count: SealedFileHeader.fixedPrefixByteCount)
        let got = prefix.withUnsafeMutableBytes { source.read(into: $0.baseAddress!, count: $0.count) }
        guard got >= 0 else {
            throw SealedFileError(source.failureCode, "cannot read: \(source.failureReason)", path: path)
        }
        if got < prefix.count {
            // An empty file, or the start of the magic: the writer died while creating the file.
            guard Array(prefix[0..<min(got, 4)]) == Array(SealedFileHeader.magic.prefix(min(got, 4))) else {
                throw SealedFileError(.notASealedFile, "the file does not start with the CVRF magic", path: path)
            }
            throw SealedFileError(.truncatedHeader, "the file ends inside its header (\(got) bytes)", path: path)
        }
        let length = try SealedFileHeader.byteCount(fromPrefix: prefix, path: path)
        var bytes = prefix + [UInt8](repeating: 0, count: length - prefix.count)
        let rest = bytes.withUnsafeMutableBytes { source.read(into: $0.baseAddress! + 8, count: length - 8) }
        guard rest >= 0 else {
            throw SealedFileError(source.failureCode, "cannot read: \(source.failureReason)", path: path)
        }
        guard rest == length - 8 else {
            throw SealedFileError(.truncatedHeader, "the file ends inside its \(length)-byte header", path: path)
        }
        return bytes
    }

    /// The next verified segment, or nil at the end of the part (then `ending` says how it ended).
    public func next() throws(SealedFileError) -> SealedSegment? {
        if let failure { throw failure }
        if ending != nil { return nil }
        do throws(SealedFileError) {
            return try readSegment()
        } catch {
            failure = error
            throw error
        }
    }

    /// Moves forward to segment `index`, whose frame an earlier reading of this part found at byte
    /// `offset`, without reading the segments between (seeking in playback). Nothing is trusted from
    /// the caller: the segment there is verified as any other, and ``next()`` throws if it is not
    /// segment `index` of this file.
    public func seek(toSegment index: UInt64, atOffset offset: Int) throws(SealedFileError) {
        if let failure { throw failure }
        guard index >= nextSegmentIndex, offset >= nextSegmentOffset, ending == nil else {
            throw SealedFileError(
                .ioFailed, "a reader seeks forward only (to segment \(index) from \(nextSegmentIndex))", path: path,
                segmentIndex: UInt32(truncatingIfNeeded: index))
        }
        guard source.skip(offset - nextSegmentOffset) else { throw ioError(index) }
        nextSegmentIndex = index
        nextSegmentOffset = offset
    }

    /// Every remaining segment's plaintext, concatenated (tests, transcription, export).
    public func readAll() throws(SealedFileError) -> [UInt8] {
        var out: [UInt8] = []
        while let segment = try next() { out.append(contentsOf: segment.plaintext) }
        return out
    }

    private func readSegment() throws(SealedFileError) -> SealedSegment? {
        let base = frame.baseAddress!
        let expected = nextSegmentIndex
        let got = source.read(into: base, count: 9)
        guard got >= 0 else { throw ioError(expected) }
        if got == 0 { return try endAtBoundary() }
        if got < 9 { return try endTorn(expected) }
        let length = Int(UInt32(bigEndian: base.loadUnaligned(as: UInt32.self)))
        let index = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let flags = base.load(fromByteOffset: 8, as: UInt8.self)
        guard flags & 0xfe == 0 else {
            throw SealedFileError(.malformedSegment, "reserved flag bits are set", path: path, segmentIndex: index)
        }
        guard length <= Int(header.maxSegmentByteCount) else {
            throw SealedFileError(
                .malformedSegment, "length \(length) exceeds the file's maximum \(header.maxSegmentByteCount)",
                path: path, segmentIndex: index)
        }
        let body = source.read(into: base + 9, count: length + AESGCM.tagByteCount)
        guard body >= 0 else { throw ioError(expected) }
        if body < length + AESGCM.tagByteCount { return try endTorn(expected) }

        let isLast = flags & 1 == 1
        try decryptFrame(length: length, index: index, flags: flags)
        guard UInt64(index) == expected else {
            OPENSSL_cleanse(base + 9, length)
            throw misplaced(index: index, expected: expected)
        }
        nextSegmentIndex += 1
        nextSegmentOffset += 9 + length + AESGCM.tagByteCount
        if isLast {
            guard isFinalPart else {
                OPENSSL_cleanse(base + 9, length)
                throw SealedFileError(
                    .lastSegmentNotFinal, "a part other than the final one holds the last segment", path: path,
                    segmentIndex: index)
            }
            var probe: UInt8 = 0
            let extra = source.read(into: &probe, count: 1)
            guard extra == 0 else {
                OPENSSL_cleanse(base + 9, length)
                throw SealedFileError(.trailingData, "bytes follow the last segment", path: path, segmentIndex: index)
            }
            ending = .lastSegment
        }
        return SealedSegment(index: index, isLast: isLast, plaintext: UnsafeRawBufferPointer(start: base + 9, count: length))
    }

    /// Decrypts the frame body in place under the nonce and AAD its own index and flags imply.
    private func decryptFrame(length: Int, index: UInt32, flags: UInt8) throws(SealedFileError) {
        let base = frame.baseAddress!
        nonce.storeBytes(of: index.bigEndian, toByteOffset: 7, as: UInt32.self)
        nonce.storeBytes(of: flags, toByteOffset: 11, as: UInt8.self)
        aad.storeBytes(of: index.bigEndian, toByteOffset: 32, as: UInt32.self)
        aad.storeBytes(of: flags, toByteOffset: 36, as: UInt8.self)
        do throws(CryptoError) {
            try gcm.open(
                inPlace: UnsafeMutableRawBufferPointer(start: base + 9, count: length),
                nonce: UnsafeRawBufferPointer(nonce), aad: UnsafeRawBufferPointer(aad),
                tag: UnsafeRawBufferPointer(start: base + 9 + length, count: AESGCM.tagByteCount))
        } catch {
            throw SealedFileError(
                .segmentAuthenticationFailed,
                "the segment does not authenticate: changed bytes, or a segment from another file", path: path,
                segmentIndex: index)
        }
    }

    private func endAtBoundary() throws(SealedFileError) -> SealedSegment? {
        if !isFinalPart {
            ending = .partBoundary
            return nil
        }
        guard allowIncomplete else {
            throw SealedFileError(
                .missingLastSegment, "the file ends without its last segment (interrupted or cut short)", path: path,
                segmentIndex: UInt32(truncatingIfNeeded: nextSegmentIndex))
        }
        ending = .missingLast
        return nil
    }

    /// A partial frame at the end: a torn write. Tolerated in non-final parts (the next part's
    /// authenticated first index proves no complete segment was lost) and with `allowIncomplete`.
    private func endTorn(_ expected: UInt64) throws(SealedFileError) -> SealedSegment? {
        guard !isFinalPart || allowIncomplete else {
            throw SealedFileError(
                .truncatedSegment, "the file ends inside a segment", path: path,
                segmentIndex: UInt32(truncatingIfNeeded: expected))
        }
        ending = .tornTail
        return nil
    }

    /// An authentic segment at the wrong place: tells a drop from a swap by looking further ahead.
    private func misplaced(index: UInt32, expected: UInt64) -> SealedFileError {
        if UInt64(index) < expected {
            return SealedFileError(
                .segmentDuplicated, "segment \(index) appears again where \(expected) was expected", path: path,
                segmentIndex: index)
        }
        if laterFrameHasIndex(expected) {
            return SealedFileError(
                .segmentReordered, "segment \(index) comes before segment \(expected)", path: path, segmentIndex: index)
        }
        return SealedFileError(
            .segmentMissing, "segment \(expected) is missing (found \(index))", path: path,
            segmentIndex: UInt32(truncatingIfNeeded: expected))
    }

    /// Walks the remaining frame headers (no decryption) looking for `index`; error path only.
    private func laterFrameHasIndex(_ index: UInt64) -> Bool {
        var head = (UInt64(0), UInt8(0))
        while true {
            let got = withUnsafeMutableBytes(of: &head) { source.read(into: $0.baseAddress!, count: 9) }
            guard got == 9 else { return false }
            let (length, found) = withUnsafeBytes(of: &head) {
                (Int(UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self))),
                 UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            }
            if UInt64(found) == index { return true }
            guard length <= Int(header.maxSegmentByteCount), source.skip(length + AESGCM.tagByteCount)
            else { return false }
        }
    }

    private func ioError(_ expected: UInt64) -> SealedFileError {
        SealedFileError(
            source.failureCode, "cannot read: \(source.failureReason)", path: path,
            segmentIndex: UInt32(truncatingIfNeeded: expected))
    }
}
