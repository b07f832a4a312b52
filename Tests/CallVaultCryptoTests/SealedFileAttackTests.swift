import Foundation
import Testing
@testable import CallVaultCrypto

/// Attacks on one sealed file. Each names the error code it must produce; none may yield plaintext.
@Suite struct SealedFileAttackTests {
    typealias F = SealedFileFixture

    // MARK: round trips

    @Test(arguments: [0, 1, 2, 50])
    func roundTrip(segmentCount: Int) throws {
        let f = try F()
        let segments = F.segments(segmentCount, size: 333)
        let path = try f.write(segments)
        let reader = try SealedFileReader(
            path: path, dataKey: f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1")
        #expect(reader.header.metadata == F.metadata())
        var read: [[UInt8]] = []
        var indices: [UInt32] = []
        var lastFlags: [Bool] = []
        while let s = try reader.next() {
            read.append(Array(s.plaintext))
            indices.append(s.index)
            lastFlags.append(s.isLast)
        }
        // Zero data segments are sealed as one empty `last` segment.
        let expected = segmentCount == 0 ? [[]] : segments
        #expect(read == expected)
        #expect(indices == (0..<UInt32(expected.count)).map { $0 })
        #expect(lastFlags == expected.indices.map { $0 == expected.count - 1 })
        #expect(reader.ending == .lastSegment)
        let fileSize = try f.bytes(path).count
        #expect(fileSize == F.headerLength(try f.bytes(path)) + expected.reduce(0) { $0 + 9 + $1.count + 16 })
    }

    @Test func ciphertextDoesNotContainPlaintext() throws {
        let f = try F()
        let secret = Array("the caller said their account number".utf8)
        let bytes = try f.bytes(try f.write([secret]))
        #expect(!bytes.indices.dropLast(secret.count).contains { Array(bytes[$0..<($0 + secret.count)]) == secret })
    }

    // MARK: header

    @Test func bitFlipInHeaderFieldIsHeaderTampered() throws {
        let f = try F()
        var bytes = try f.bytes(try f.write(F.segments(3)))
        bytes[23] ^= 0x01  // sample rate
        #expect(f.failure(try f.save(bytes))?.code == .headerTampered)
    }

    @Test func bitFlipInHeaderMACIsHeaderTampered() throws {
        let f = try F()
        var bytes = try f.bytes(try f.write(F.segments(3)))
        bytes[F.headerLength(bytes) - 1] ^= 0x80
        #expect(f.failure(try f.save(bytes))?.code == .headerTampered)
    }

    @Test func bitFlipInSaltOrCommitmentIsCommitmentMismatch() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(3)))
        for offset in [44, F.headerLength(original) - 40] {
            var bytes = original
            bytes[offset] ^= 0x04
            #expect(f.failure(try f.save(bytes))?.code == .keyCommitmentMismatch, "offset \(offset)")
        }
    }

    @Test func magicAndVersion() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(1)))
        var bytes = original
        bytes[0] ^= 0x20
        #expect(f.failure(try f.save(bytes))?.code == .notASealedFile)
        bytes = original
        bytes[4] = 2
        #expect(f.failure(try f.save(bytes))?.code == .unsupportedVersion)
    }

    /// Every single-bit flip anywhere in the header is refused; none yields plaintext.
    @Test func everyHeaderBitFlipIsRefused() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(2)))
        for byte in 0..<F.headerLength(original) {
            for bit in 0..<8 {
                var bytes = original
                bytes[byte] ^= UInt8(1 << bit)
                let path = try f.save(bytes)
                #expect(f.failure(path) != nil, "flip at byte \(byte) bit \(bit)")
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }

    @Test func fileOfAnotherRecordingOrTenantIsRefusedByName() throws {
        let f = try F()
        let path = try f.write(F.segments(2))
        #expect(f.failure(path, recording: "rec-2")?.code == .wrongRecording)
        #expect(f.failure(path, tenant: "tenant-b")?.code == .wrongTenant)
    }

    @Test func wrongDataKeyIsCommitmentMismatch() throws {
        let f = try F()
        let path = try f.write(F.segments(2))
        let error = f.failure(path, key: try SecretKey())
        #expect(error?.code == .keyCommitmentMismatch)
        #expect(error?.path == path)
    }

    @Test func emptyOrCutHeaderIsTruncatedHeader() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(1)))
        for cut in [0, 3, 8, F.headerLength(original) - 1] {
            #expect(f.failure(try f.save(Array(original.prefix(cut))))?.code == .truncatedHeader, "cut at \(cut)")
        }
        #expect(f.failure(try f.save(Array("RIFF....WAVE".utf8)))?.code == .notASealedFile)
    }

    // MARK: segments

    @Test func bitFlipInCiphertextOrTagFailsAuthenticationAtThatSegment() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let frame = F.frames(original)[2]
        for offset in [frame.lowerBound + 9, frame.lowerBound + 50, frame.upperBound - 16, frame.upperBound - 1] {
            var bytes = original
            bytes[offset] ^= 0x10
            let error = f.failure(try f.save(bytes))
            #expect(error?.code == .segmentAuthenticationFailed, "offset \(offset)")
            #expect(error?.segmentIndex == 2)
        }
    }

    @Test func changedIndexOrLastFlagFailsAuthentication() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let frame = F.frames(original)[1]
        var bytes = original
        bytes[frame.lowerBound + 7] ^= 0x01  // index 1 -> 0: as if it were a duplicate, but its tag says no
        #expect(f.failure(try f.save(bytes))?.code == .segmentAuthenticationFailed)
        bytes = original
        bytes[frame.lowerBound + 8] = 1  // claim `last` early
        #expect(f.failure(try f.save(bytes))?.code == .segmentAuthenticationFailed)
        bytes = original
        bytes[frame.lowerBound + 8] = 2  // reserved flag bit
        #expect(f.failure(try f.save(bytes))?.code == .malformedSegment)
        bytes = original
        bytes[frame.lowerBound] = 0xff  // a lying length field, larger than the file's maximum
        #expect(f.failure(try f.save(bytes))?.code == .malformedSegment)
    }

    @Test func swappedSegmentsAreReordered() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let fr = F.frames(original)
        let bytes = Array(original[..<fr[1].lowerBound]) + original[fr[2]] + original[fr[1]] + original[fr[3]]
        let error = f.failure(try f.save(bytes))
        #expect(error?.code == .segmentReordered)
        #expect(error?.segmentIndex == 2)
    }

    @Test func droppedSegmentIsMissing() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let fr = F.frames(original)
        let bytes = Array(original[..<fr[1].lowerBound]) + original[fr[2]] + original[fr[3]]
        let error = f.failure(try f.save(bytes))
        #expect(error?.code == .segmentMissing)
        #expect(error?.segmentIndex == 1)
    }

    @Test func duplicatedSegmentIsDuplicated() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let fr = F.frames(original)
        let bytes = Array(original[..<fr[2].lowerBound]) + original[fr[1]] + original[fr[2]] + original[fr[3]]
        let error = f.failure(try f.save(bytes))
        #expect(error?.code == .segmentDuplicated)
        #expect(error?.segmentIndex == 1)
    }

    @Test func truncatedMidSegment() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4, size: 200)))
        let fr = F.frames(original)
        for cut in [fr[2].lowerBound + 4, fr[2].lowerBound + 100, fr[3].upperBound - 1] {
            let path = try f.save(Array(original.prefix(cut)))
            #expect(f.failure(path)?.code == .truncatedSegment, "cut at \(cut)")
            // An interrupted recording still yields every complete, verified segment.
            let reader = try SealedFileReader(
                path: path, dataKey: f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1",
                allowIncomplete: true)
            let complete = fr.filter { $0.upperBound <= cut }.count
            #expect(try reader.readAll() == Array(F.segments(complete, size: 200).joined()))
            #expect(reader.ending == .tornTail)
        }
    }

    @Test func truncatedAtSegmentBoundaryIsMissingLast() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(4)))
        let fr = F.frames(original)
        for kept in [0, 2, 3] {
            let cut = kept == 0 ? F.headerLength(original) : fr[kept - 1].upperBound
            let path = try f.save(Array(original.prefix(cut)))
            let error = f.failure(path)
            #expect(error?.code == .missingLastSegment, "kept \(kept)")
            #expect(error?.segmentIndex == UInt32(kept))
            #expect(try f.readAll(path, allowIncomplete: true) == Array(F.segments(kept).joined()))
        }
    }

    @Test func bytesAfterLastAreTrailingData() throws {
        let f = try F()
        let original = try f.bytes(try f.write(F.segments(3)))
        #expect(f.failure(try f.save(original + [0]))?.code == .trailingData)
        // A complete, authentic segment replayed after the end is refused too.
        let fr = F.frames(original)
        #expect(f.failure(try f.save(original + original[fr[1]]))?.code == .trailingData)
    }

    @Test func segmentFromAnotherRecordingWithTheSameDataKeyFails() throws {
        let f = try F()
        let a = try f.bytes(try f.write(F.segments(4)))
        // Same tenant, same data key, even the same recording id: a different salt gives a different file key.
        let b = try f.bytes(try f.write(F.segments(4)))
        let fa = F.frames(a), fb = F.frames(b)
        #expect(a[fa[1]] != b[fb[1]])
        let spliced = Array(a[..<fa[1].lowerBound]) + b[fb[1]] + a[fa[2]] + a[fa[3]]
        let error = f.failure(try f.save(spliced))
        #expect(error?.code == .segmentAuthenticationFailed)
        #expect(error?.segmentIndex == 1)
        // B's header in front of A's segments: the header hash in the associated data differs.
        let headerSwapped = Array(b[..<F.headerLength(b)]) + a[F.headerLength(a)...]
        #expect(f.failure(try f.save(headerSwapped))?.code == .segmentAuthenticationFailed)
    }

    @Test func segmentFromAnotherTenantFails() throws {
        let f = try F()
        let a = try f.bytes(try f.write(F.segments(3)))
        let other = try f.bytes(try f.write(
            F.segments(3), key: try SecretKey(), metadata: F.metadata(tenant: "tenant-b", recording: "rec-9")))
        let fa = F.frames(a), fo = F.frames(other)
        let spliced = Array(a[..<fa[1].lowerBound]) + other[fo[1]] + a[fa[2]]
        #expect(f.failure(try f.save(spliced))?.code == .segmentAuthenticationFailed)
        // The other tenant's whole file presented as this recording is refused by its header.
        #expect(f.failure(try f.save(other))?.code == .wrongTenant)
    }

    @Test func failedSegmentReleasesNoPlaintextAndReaderStaysFailed() throws {
        let f = try F()
        var bytes = try f.bytes(try f.write(F.segments(3)))
        let fr = F.frames(bytes)
        bytes[fr[1].lowerBound + 20] ^= 1
        let reader = try SealedFileReader(
            path: try f.save(bytes), dataKey: f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1")
        #expect(try reader.next()?.index == 0)
        #expect(throws: SealedFileError.self) { _ = try reader.next() }
        #expect(throws: SealedFileError.self) { _ = try reader.next() }
    }
}
