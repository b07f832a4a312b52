import CallVaultTestSupport
import Foundation
import Testing
@testable import CallVaultCrypto

/// Multi-part recordings, `verify`, and a seeded property test of the whole format.
@Suite struct SealedRecordingTests {
    typealias F = SealedFileFixture

    /// Writes a recording as parts with the given segment counts; only the final part ends with `last`.
    private func writeParts(_ f: F, _ counts: [Int], finish: Bool = true) throws -> (paths: [String], plain: [UInt8]) {
        var paths: [String] = []
        var plain: [UInt8] = []
        var first: UInt32 = 0
        for (part, count) in counts.enumerated() {
            let segments = F.segments(count, size: 50 + part)
            let isFinal = part == counts.count - 1
            paths.append(try f.write(
                segments, finish: finish && isFinal, metadata: F.metadata(part: UInt32(part), first: first)))
            plain += segments.joined()
            first += UInt32(count)
        }
        return (paths, plain)
    }

    private func reader(_ f: F, _ paths: [String], allowIncomplete: Bool = false) throws -> SealedRecordingReader {
        try SealedRecordingReader(
            partPaths: paths, dataKey: f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1",
            allowIncomplete: allowIncomplete)
    }

    private func verify(_ f: F, _ paths: [String], key: SecretKey? = nil) -> SealedRecordingVerifier.Result {
        SealedRecordingVerifier.verify(
            partPaths: paths, dataKey: key ?? f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1")
    }

    private func failure(_ f: F, _ paths: [String]) -> SealedFileError? {
        do {
            _ = try reader(f, paths).readAll()
            Issue.record("reading succeeded")
            return nil
        } catch let error as SealedFileError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func multiPartRoundTrip() throws {
        let f = try F()
        let (paths, plain) = try writeParts(f, [3, 2, 4])
        let r = try reader(f, paths)
        var indices: [UInt32] = []
        var bytes: [UInt8] = []
        while let s = try r.next() {
            indices.append(s.index)
            bytes += s.plaintext
        }
        #expect(indices == Array(0..<9))
        #expect(bytes == plain)
        #expect(r.ending == .lastSegment)
        #expect(verify(f, paths) == .init(status: .ok, segmentCount: 9, plaintextByteCount: plain.count))
    }

    @Test func partsOutOfOrderOrDropped() throws {
        let f = try F()
        let (paths, _) = try writeParts(f, [2, 2, 2])
        #expect(failure(f, [paths[1], paths[0], paths[2]])?.code == .partOutOfOrder)
        #expect(failure(f, [paths[0], paths[2]])?.code == .partOutOfOrder)
        #expect(failure(f, [paths[1], paths[2]])?.code == .partOutOfOrder)
    }

    @Test func partStartingAtTheWrongIndex() throws {
        let f = try F()
        let p0 = try f.write(F.segments(3), finish: false, metadata: F.metadata(part: 0, first: 0))
        let gap = try f.write(F.segments(1), metadata: F.metadata(part: 1, first: 4))
        let overlap = try f.write(F.segments(1), metadata: F.metadata(part: 1, first: 2))
        #expect(failure(f, [p0, gap])?.code == .segmentMissing)
        #expect(failure(f, [p0, overlap])?.code == .segmentDuplicated)
    }

    @Test func onlyTheFinalPartMayHoldLast() throws {
        let f = try F()
        let p0 = try f.write(F.segments(2), finish: true, metadata: F.metadata(part: 0, first: 0))
        let p1 = try f.write(F.segments(2), finish: true, metadata: F.metadata(part: 1, first: 2))
        #expect(failure(f, [p0, p1])?.code == .lastSegmentNotFinal)
    }

    @Test func tornNonFinalPartIsToleratedWhenTheNextPartContinues() throws {
        let f = try F()
        let (paths, plain) = try writeParts(f, [3, 2])
        // Simulate a crash during part 0's fourth write; the restart began part 1 at index 3.
        let torn = try f.save(try f.bytes(paths[0]) + [0, 0, 0, 50, 0, 0, 0, 3, 0, 1, 2])
        let r = try reader(f, [torn, paths[1]])
        #expect(try r.readAll() == plain)
        #expect(r.tornPartCount == 1)
        #expect(verify(f, [torn, paths[1]]).status == .ok)
    }

    @Test func verifyStatuses() throws {
        let f = try F()
        let (complete, _) = try writeParts(f, [2, 3])
        #expect(verify(f, complete).status == .ok)

        // Crash: no `last` segment, and the final write torn.
        let (interrupted, plain) = try writeParts(f, [2, 3], finish: false)
        let noLast = verify(f, interrupted)
        #expect(noLast.status == .truncated)
        #expect(noLast.plaintextByteCount == plain.count)
        let torn = try f.save(try f.bytes(interrupted[1]) + [0, 0])
        #expect(verify(f, [interrupted[0], torn]).status == .truncated)
        // Crash right after the final part was created.
        #expect(verify(f, [interrupted[0], try f.save([])]).status == .truncated)
        let r = try reader(f, interrupted, allowIncomplete: true)
        #expect(try r.readAll() == plain)
        #expect(r.ending == .missingLast)

        var bytes = try f.bytes(complete[1])
        bytes[bytes.count - 3] ^= 1
        let result = verify(f, [complete[0], try f.save(bytes)])
        guard case .tampered(let error) = result.status else {
            Issue.record("expected tampered, got \(result.status)")
            return
        }
        #expect(error.code == .segmentAuthenticationFailed)
        #expect(error.segmentIndex == 4)
        #expect(result.segmentCount == 4)
        #expect(result.status.name == "tampered")

        #expect(verify(f, complete, key: try SecretKey()).status.name == "tampered")
        let absent = f.newPath()
        #expect(verify(f, [complete[0], absent]).status == .missing(path: absent))
    }

    /// Random segment sizes and contents across random part splits round-trip exactly.
    @Test func propertyRandomRecordingsRoundTrip() throws {
        let f = try F()
        var rng = SeededRandom(seed: 0xC0FFEE)
        for iteration in 0..<300 {
            let maxSegment = Int.random(in: 1...4096, using: &rng)
            let segmentCount = Int.random(in: 0...12, using: &rng)
            let segments: [[UInt8]] = (0..<segmentCount).map { _ in
                (0..<Int.random(in: 0...maxSegment, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            let partCount = segmentCount == 0 ? 1 : Int.random(in: 1...min(3, segmentCount), using: &rng)
            // Split points: part k holds segments [cuts[k], cuts[k+1]).
            var cuts = [0] + (1..<partCount).map { _ in Int.random(in: 1..<max(2, segmentCount), using: &rng) }.sorted()
            cuts.append(segmentCount)
            var paths: [String] = []
            for part in 0..<partCount {
                let slice = Array(segments[cuts[part]..<max(cuts[part], cuts[part + 1])])
                paths.append(try f.write(
                    slice, finish: part == partCount - 1, metadata: F.metadata(part: UInt32(part), first: UInt32(cuts[part])),
                    maxSegment: maxSegment))
            }
            let r = try reader(f, paths)
            var read: [[UInt8]] = []
            while let s = try r.next() { read.append(Array(s.plaintext)) }
            // A final part with no data segments is sealed as one empty `last` segment.
            let lastPartEmpty = cuts[partCount] == cuts[partCount - 1]
            #expect(read == (lastPartEmpty ? segments + [[]] : segments), "iteration \(iteration)")
            #expect(r.ending == .lastSegment)
            for path in paths { try FileManager.default.removeItem(atPath: path) }
        }
    }
}
