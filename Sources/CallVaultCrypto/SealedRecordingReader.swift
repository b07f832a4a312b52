/// Reads a whole recording made of one or more parts, in order, as one stream of segments.
///
/// Parts are files (``init(partPaths:dataKey:expectedTenantID:expectedRecordingID:allowIncomplete:)``)
/// or any ``SealedPartSource`` (objects read by ranged GETs), opened one at a time. Across parts it checks that part `k` says part number `k`, that
/// its first segment index continues the previous part exactly, that all parts share tenant,
/// recording, key id, kind and codec, and that only the final part holds the `last` segment.
/// Not thread-safe.
public final class SealedRecordingReader {
    /// The parts, part 0 first.
    public let parts: [SealedPartSource]
    /// The parts' names (paths or object keys), part 0 first.
    public var partPaths: [String] { parts.map(\.name) }
    public let allowIncomplete: Bool
    /// How the recording ended; nil until the end was reached.
    public private(set) var ending: SealedFileEnding?
    /// Verified segments handed out so far.
    public private(set) var segmentCount = 0
    /// Verified plaintext bytes handed out so far.
    public private(set) var plaintextByteCount = 0
    /// Non-final parts that ended in a torn write (a crash followed by a restart); informational.
    public private(set) var tornPartCount = 0
    /// The part (0 first) and the byte offset in it of the segment ``next()`` returned last: where an
    /// index notes it, to come back with ``SealedFileReader/seek(toSegment:atOffset:)``.
    public private(set) var lastSegmentPlace = (part: 0, offset: 0)
    /// The first part's header, once it was opened.
    public private(set) var firstHeader: SealedFileHeader?

    private let dataKey: SecretKey
    private let expectedTenantID: String
    private let expectedRecordingID: String
    private var partIndex = 0
    private var current: SealedFileReader?
    private var nextIndex: UInt64 = 0

    /// - Parameters:
    ///   - partPaths: the recording's part files, part 0 first. Must not be empty.
    ///   - allowIncomplete: read an interrupted recording up to its last verified segment and report
    ///     `ending == .missingLast` or `.tornTail` instead of throwing.
    public convenience init(
        partPaths: [String], dataKey: SecretKey, expectedTenantID: String, expectedRecordingID: String,
        allowIncomplete: Bool = false
    ) throws(SealedFileError) {
        try self.init(
            parts: partPaths.map(SealedPartSource.file), dataKey: dataKey, expectedTenantID: expectedTenantID,
            expectedRecordingID: expectedRecordingID, allowIncomplete: allowIncomplete)
    }

    /// - Parameters:
    ///   - parts: the recording's parts, part 0 first, each opened when reading reaches it. Must not
    ///     be empty.
    ///   - allowIncomplete: as for part files.
    public init(
        parts: [SealedPartSource], dataKey: SecretKey, expectedTenantID: String, expectedRecordingID: String,
        allowIncomplete: Bool = false
    ) throws(SealedFileError) {
        guard !parts.isEmpty else {
            throw SealedFileError(.fileNotFound, "a recording needs at least one part file")
        }
        self.parts = parts
        self.dataKey = dataKey
        self.expectedTenantID = expectedTenantID
        self.expectedRecordingID = expectedRecordingID
        self.allowIncomplete = allowIncomplete
    }

    /// The next verified segment of the recording, or nil at its end.
    public func next() throws(SealedFileError) -> SealedSegment? {
        while ending == nil {
            let reader = try currentReader()
            let offset = reader.nextSegmentOffset
            if let segment = try reader.next() {
                lastSegmentPlace = (partIndex, offset)
                segmentCount += 1
                plaintextByteCount += segment.plaintext.count
                nextIndex = UInt64(segment.index) + 1
                return segment
            }
            switch reader.ending {
            case .partBoundary?:
                current = nil
                partIndex += 1
            case .tornTail? where !reader.isFinalPart:
                tornPartCount += 1
                current = nil
                partIndex += 1
            default:
                ending = reader.ending
            }
        }
        return nil
    }

    /// Every remaining segment's plaintext, concatenated.
    public func readAll() throws(SealedFileError) -> [UInt8] {
        var out: [UInt8] = []
        while let segment = try next() { out.append(contentsOf: segment.plaintext) }
        return out
    }

    private func currentReader() throws(SealedFileError) -> SealedFileReader {
        if let current { return current }
        let part = parts[partIndex]
        let path = part.name
        let isFinal = partIndex == parts.count - 1
        let reader = try SealedFileReader(
            source: part.open(), name: path, dataKey: dataKey, expectedTenantID: expectedTenantID, expectedRecordingID: expectedRecordingID,
            isFinalPart: isFinal, allowIncomplete: allowIncomplete)
        let m = reader.header.metadata
        guard m.partNumber == UInt32(partIndex) else {
            throw SealedFileError(
                .partOutOfOrder, "the file says it is part \(m.partNumber), it was given as part \(partIndex)", path: path)
        }
        if let first = firstHeader?.metadata {
            guard m.kind == first.kind, m.codec == first.codec, m.keyID == first.keyID,
                  m.sampleRate == first.sampleRate, m.channels == first.channels
            else {
                throw SealedFileError(.headerCorrupt, "the part's kind, codec, rate or key id differs from part 0", path: path)
            }
        } else {
            firstHeader = reader.header
            nextIndex = UInt64(m.firstSegmentIndex)
            guard m.firstSegmentIndex == 0 else {
                throw SealedFileError(
                    .segmentMissing, "part 0 starts at segment \(m.firstSegmentIndex), not 0", path: path, segmentIndex: 0)
            }
        }
        if UInt64(m.firstSegmentIndex) > nextIndex {
            throw SealedFileError(
                .segmentMissing, "segments \(nextIndex)..<\(m.firstSegmentIndex) are missing before this part",
                path: path, segmentIndex: UInt32(truncatingIfNeeded: nextIndex))
        }
        if UInt64(m.firstSegmentIndex) < nextIndex {
            throw SealedFileError(
                .segmentDuplicated, "this part starts at segment \(m.firstSegmentIndex), already read", path: path,
                segmentIndex: m.firstSegmentIndex)
        }
        current = reader
        return reader
    }
}
