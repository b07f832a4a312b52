import CallVaultTestSupport
import Foundation
import Testing
@testable import CallVaultCrypto

/// Counts heap allocations on the hot path when a malloc counter is preloaded (``MallocCounter``: it
/// needs `LD_PRELOAD` of a counting library). Without it the test says so and is skipped.
@Suite struct AllocationProbeTests {
    private func count(_ body: () throws -> Void) rethrows -> Int {
        try MallocCounter.count(body)
    }

    @Test(.enabled(if: MallocCounter.isAvailable, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
    func hotPathMakesNoAllocations() throws {
        let f = try SealedFileFixture()
        let path = f.newPath()
        let writer = try SealedFileWriter(
            path: path, dataKey: f.key, metadata: SealedFileFixture.metadata(), maxSegmentByteCount: 16_000)
        let segment = [UInt8](repeating: 7, count: 16_000)
        try segment.withUnsafeBytes { try writer.append($0, last: false) }  // warm up
        let appends = try segment.withUnsafeBytes { buffer in
            try count { for _ in 0..<1000 { try writer.append(buffer, last: false) } }
        }
        try segment.withUnsafeBytes { try writer.append($0, last: true) }
        try writer.close()
        print("allocations in 1000 SealedFileWriter.append(16000 bytes):", appends)
        #expect(appends == 0)

        let gcm = try AESGCM(key: f.key)
        var data = [UInt8](repeating: 1, count: 1600)
        var tag = [UInt8](repeating: 0, count: 16)
        let nonce = [UInt8](repeating: 2, count: 12), aad = [UInt8](repeating: 3, count: 37)
        let seals = try data.withUnsafeMutableBytes { d in
            try tag.withUnsafeMutableBytes { t in
                try nonce.withUnsafeBytes { n in
                    try aad.withUnsafeBytes { a in
                        try gcm.seal(inPlace: d, nonce: n, aad: a, tag: t)
                        return try count { for _ in 0..<1000 { try gcm.seal(inPlace: d, nonce: n, aad: a, tag: t) } }
                    }
                }
            }
        }
        print("allocations in 1000 AESGCM.seal(1600 bytes):", seals)
        #expect(seals == 0)

        let reader = try SealedFileReader(
            path: path, dataKey: f.key, expectedTenantID: "tenant-a", expectedRecordingID: "rec-1")
        _ = try reader.next()
        let reads = try count { for _ in 0..<1000 { _ = try reader.next() } }
        print("allocations in 1000 SealedFileReader.next():", reads)
        #expect(reads == 0)

        let hkdf = try count { _ = try HKDF.sha256(key: f.key, salt: [1], info: [2], outputByteCount: 32) }
        print("allocations in one HKDF.sha256:", hkdf)
        #expect(hkdf > 0)
    }
}
