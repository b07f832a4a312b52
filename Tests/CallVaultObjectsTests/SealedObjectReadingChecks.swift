import CallVaultCrypto
import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

/// What reading sealed files from a store must do, run on each store (``SealedObjectReadingTests``).
enum SealedObjectReadingChecks {
    /// Three parts read through objects give the plaintext that was sealed, as the files do.
    static func threeParts(_ store: any ObjectStore) async throws {
        let sample = try SealedObjectSample(counts: [40, 25, 55])
        try await sample.put(into: store)
        let fromFiles = try SealedRecordingReader(
            partPaths: sample.partPaths, dataKey: sample.key, expectedTenantID: SealedObjectSample.tenant,
            expectedRecordingID: SealedObjectSample.recording
        ).readAll()
        #expect(fromFiles == sample.plaintext)
        let fromObjects = try await sample.readAll(sample.keys.map { SealedPartSource.object($0, in: store) })
        #expect(fromObjects == sample.plaintext)
        // Sizes given (as from a listing): no HEAD, same bytes, and a small window.
        let sizes = try sample.partPaths.indices.map { try sample.bytes(part: $0).count }
        let sized = try await sample.readAll(
            sample.keys.indices.map { SealedPartSource.object(sample.keys[$0], in: store, size: sizes[$0], windowByteCount: 3000) })
        #expect(sized == sample.plaintext)

        let key = sample.key
        let parts = sample.keys.map { SealedPartSource.object($0, in: store) }
        let verified = await ObjectReading.run {
            SealedRecordingVerifier.verify(
                parts: parts, dataKey: key, expectedTenantID: SealedObjectSample.tenant,
                expectedRecordingID: SealedObjectSample.recording)
        }
        #expect(verified.status == .ok)
        #expect(verified.plaintextByteCount == sample.plaintext.count)
    }

    /// With a 4 KiB window: about size/window GETs, none larger than the window, each byte fetched once.
    static func windowing(_ base: any ObjectStore) async throws {
        let store = GetRecordingStore(base)
        let sample = try SealedObjectSample(counts: [120])
        try await sample.put(into: store)
        let size = try sample.bytes(part: 0).count
        let window = 4096
        let key = sample.key, objectKey = sample.keys[0]
        // The source lives on the reading thread; what it counted comes back with the plaintext.
        let (plaintext, getCount, fetched) = try await ObjectReading.run {
            () throws(SealedFileError) -> ([UInt8], Int, Int) in
            let source = ObjectByteSource(store: store, key: objectKey, size: size, windowByteCount: window)
            let plaintext = try SealedFileReader(
                source: source, name: source.key, dataKey: key, expectedTenantID: SealedObjectSample.tenant,
                expectedRecordingID: SealedObjectSample.recording
            ).readAll()
            return (plaintext, source.getCount, source.fetchedByteCount)
        }
        #expect(plaintext == sample.plaintext)
        let expected = (size + window - 1) / window
        #expect(size > 15 * window, "the sample spans many windows (\(size) bytes)")
        #expect(getCount == expected, "\(getCount) GETs for \(size) bytes in \(window)-byte windows")
        #expect(fetched == size)
        let ranges = store.gets.compactMap(\.range)
        #expect(ranges.count == store.gets.count, "every GET asked for a range")
        #expect(ranges.allSatisfy { $0.length <= window })
        #expect(ranges.map(\.offset) == Array(stride(from: 0, to: size, by: window)), "in order, each byte once")

        // An object smaller than the default window comes in one GET of its size.
        let before = store.gets.count
        let smallGets = try await ObjectReading.run { () throws(SealedFileError) -> Int in
            let small = ObjectByteSource(store: store, key: objectKey, size: size)
            _ = try SealedFileReader(
                source: small, name: small.key, dataKey: key, expectedTenantID: SealedObjectSample.tenant,
                expectedRecordingID: SealedObjectSample.recording
            ).readAll()
            return small.getCount
        }
        #expect(smallGets == 1)
        #expect(store.gets.dropFirst(before).map(\.range) == [ByteRange(offset: 0, length: size)])
    }

    /// A flipped ciphertext byte in a stored object: `segmentAuthenticationFailed` naming the key.
    static func flippedByte(_ store: any ObjectStore) async throws {
        let sample = try SealedObjectSample(counts: [30, 30])
        try await sample.put(into: store)
        var bytes = try sample.bytes(part: 1)
        bytes[bytes.count / 2] ^= 0x20
        _ = try await store.put(sample.keys[1], bytes: bytes)
        let failure = await sample.failure(
            sample.keys.map { SealedPartSource.object($0, in: store, windowByteCount: 4096) })
        #expect(failure?.code == .segmentAuthenticationFailed)
        #expect(failure?.path == sample.keys[1])
        #expect(failure?.description.contains(sample.keys[1]) == true, "\(failure?.description ?? "")")
        #expect((failure?.segmentIndex ?? 0) >= 30)
    }

    /// Frames moved inside a stored object: the reader's look-ahead (``ObjectByteSource/skip(_:)``)
    /// tells a swap from a drop, as with files.
    static func movedFrames(_ store: any ObjectStore) async throws {
        let sample = try SealedObjectSample(counts: [20])
        let bytes = try sample.bytes(part: 0)
        let frames = Self.frames(bytes)
        // Segment 5 moved behind 8: finding it takes skipping frames 7 and 8 unread.
        var swapped = Array(bytes[..<frames[5].lowerBound])
        swapped += bytes[frames[6].lowerBound..<frames[9].lowerBound] + bytes[frames[5]] + bytes[frames[9].lowerBound...]
        _ = try await store.put(sample.keys[0], bytes: swapped)
        let reordered = await sample.failure([.object(sample.keys[0], in: store, windowByteCount: 2048)])
        #expect(reordered?.code == .segmentReordered)
        var dropped = Array(bytes[..<frames[5].lowerBound])
        dropped += bytes[frames[6].lowerBound...]
        _ = try await store.put(sample.keys[0], bytes: dropped)
        let missing = await sample.failure([.object(sample.keys[0], in: store, windowByteCount: 2048)])
        #expect(missing?.code == .segmentMissing)
        #expect(missing?.segmentIndex == 5)
    }

    /// A missing object: `fileNotFound` naming its key (HEAD or, with the size given, GET), and
    /// `verify` says `missing`.
    static func missingObject(_ store: any ObjectStore) async throws {
        let sample = try SealedObjectSample(counts: [10, 10])
        _ = try await store.put(sample.keys[0], bytes: try sample.bytes(part: 0))
        let parts = sample.keys.map { SealedPartSource.object($0, in: store) }
        let failure = await sample.failure(parts)
        #expect(failure?.code == .fileNotFound)
        #expect(failure?.path == sample.keys[1])
        let sized = await sample.failure(sample.keys.map { SealedPartSource.object($0, in: store, size: 5000) })
        #expect(sized?.code == .fileNotFound, "\(sized?.description ?? "")")
        #expect(sized?.path == sample.keys[1])
        let key = sample.key
        let verified = await ObjectReading.run {
            SealedRecordingVerifier.verify(
                parts: parts, dataKey: key, expectedTenantID: SealedObjectSample.tenant,
                expectedRecordingID: SealedObjectSample.recording)
        }
        #expect(verified.status == .missing(path: sample.keys[1]))
        #expect(verified.segmentCount == 10)
    }

    /// Byte ranges of each segment frame (frame header, ciphertext and tag).
    static func frames(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = Int(bytes[6]) << 8 | Int(bytes[7])
        while offset + 9 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            ranges.append(offset..<(offset + 9 + length + 16))
            offset += 9 + length + 16
        }
        return ranges
    }
}
