import Foundation
import Testing
@testable import CallVaultCrypto

/// The writer's contract: refusals, file mode, limits, and header encoding.
@Suite struct SealedFileWriterTests {
    typealias F = SealedFileFixture

    private func writer(_ f: F, path: String? = nil, metadata: SealedFileMetadata = F.metadata(), max: Int = 64)
        throws -> SealedFileWriter
    {
        try SealedFileWriter(path: path ?? f.newPath(), dataKey: f.key, metadata: metadata, maxSegmentByteCount: max)
    }

    private func code(_ body: () throws -> Void) -> SealedFileError.Code? {
        do {
            try body()
            return nil
        } catch let error as SealedFileError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func refusesToAppendAfterLast() throws {
        let f = try F()
        let w = try writer(f)
        try ([1, 2, 3] as [UInt8]).withUnsafeBytes { try w.append($0, last: true) }
        #expect(w.isFinished)
        #expect(code { try ([4] as [UInt8]).withUnsafeBytes { try w.append($0, last: false) } } == .writerClosed)
        try w.finish()  // already finished: no second last segment
        #expect(w.nextSegmentIndex == 1)
    }

    @Test func refusesOversizedSegmentButKeepsGoing() throws {
        let f = try F()
        let path = f.newPath()
        let w = try writer(f, path: path, max: 64)
        #expect(code { try [UInt8](repeating: 1, count: 65).withUnsafeBytes { try w.append($0, last: false) } }
            == .segmentTooLarge)
        try [UInt8](repeating: 2, count: 64).withUnsafeBytes { try w.append($0, last: true) }
        try w.close()
        #expect(try f.readAll(path) == [UInt8](repeating: 2, count: 64))
    }

    @Test func neverOverwritesAnExistingFile() throws {
        let f = try F()
        let path = try f.write(F.segments(1))
        let before = try f.bytes(path)
        #expect(code { _ = try writer(f, path: path) } == .fileExists)
        #expect(try f.bytes(path) == before)
    }

    @Test func fileIsPrivateToItsOwner() throws {
        let f = try F()
        let path = try f.write(F.segments(1))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func refusesMoreThanTwoToThe32Segments() throws {
        let f = try F()
        let path = f.newPath()
        let w = try writer(f, path: path, metadata: F.metadata(first: UInt32.max))
        try ([9] as [UInt8]).withUnsafeBytes { try w.append($0, last: false) }
        #expect(code { try ([9] as [UInt8]).withUnsafeBytes { try w.append($0, last: true) } } == .tooManySegments)
        #expect(w.nextSegmentIndex == UInt64(UInt32.max) + 1)
    }

    @Test func refusesMetadataTheFormatCannotHold() throws {
        let f = try F()
        var m = F.metadata()
        m.tenantID = ""
        #expect(code { _ = try writer(f, metadata: m) } == .invalidMetadata)
        m = F.metadata()
        m.recordingID = String(repeating: "x", count: 256)
        #expect(code { _ = try writer(f, metadata: m) } == .invalidMetadata)
        #expect(code { _ = try writer(f, max: 0) } == .invalidMetadata)
        #expect(code { _ = try writer(f, max: SealedFileHeader.maximumSegmentByteLimit + 1) } == .invalidMetadata)
    }

    @Test func refusesADataKeyThatIsNot32Bytes() throws {
        let f = try F()
        let short = try SecretKey(randomByteCount: 16)
        #expect(code {
            _ = try SealedFileWriter(path: f.newPath(), dataKey: short, metadata: F.metadata())
        } == .cryptoFailed)
    }

    @Test func headerEncodesAndDecodesEveryField() throws {
        let f = try F()
        let m = SealedFileMetadata(
            kind: .transcript, tenantID: "tenant-ü", recordingID: "r", keyID: "k", codec: .json, sampleRate: 0,
            channels: 2, frameDurationMs: 0, createdAtMs: -5, partNumber: 3, firstSegmentIndex: 77)
        let w = try writer(f, metadata: m, max: 1000)
        let encoded = try w.header.encoded()
        let decoded = try SealedFileHeader.decode(encoded)
        #expect(decoded == w.header)
        #expect(decoded.metadata == m)
        #expect(decoded.salt.count == 32 && decoded.noncePrefix.count == 7)
        #expect(decoded.maxSegmentByteCount == 1000)
        #expect(Array(encoded.prefix(4)) == Array("CVRF".utf8))
    }

    @Test func twoFilesOfOneKeyGetDifferentSaltsPrefixesAndCommitmentsStayKeyBound() throws {
        let f = try F()
        let a = try writer(f).header, b = try writer(f).header
        #expect(a.salt != b.salt)
        #expect(a.noncePrefix != b.noncePrefix)
        #expect(a.keyCommitment != b.keyCommitment)
    }

    @Test func syncAndCloseAreIdempotentEnough() throws {
        let f = try F()
        let path = f.newPath()
        let w = try writer(f, path: path)
        try ([1] as [UInt8]).withUnsafeBytes { try w.append($0, last: false) }
        try w.sync()
        try w.finish()
        try w.close()
        try w.close()
        #expect(code { try w.sync() } == .writerClosed)
        #expect(code { try ([1] as [UInt8]).withUnsafeBytes { try w.append($0, last: false) } } == .writerClosed)
        #expect(try f.readAll(path) == [1])
        #expect(w.byteCount == (try f.bytes(path)).count)
    }
}
