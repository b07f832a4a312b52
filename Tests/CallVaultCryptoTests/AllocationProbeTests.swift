import Foundation
import Testing
@testable import CallVaultCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Counts heap allocations on the hot path when a malloc counter is preloaded.
///
/// Needs `LD_PRELOAD` of a library exporting `cv_count_begin()` / `cv_count_end() -> long` that
/// count malloc-family calls on the calling thread (source in the comment at the end of this file).
/// Without it the test says so and is skipped.
@Suite struct AllocationProbeTests {
    typealias Begin = @convention(c) () -> Void
    typealias End = @convention(c) () -> Int

    static let hooks: (Begin, End)? = {
        let handle = dlopen(nil, RTLD_NOW)
        guard let b = dlsym(handle, "cv_count_begin"), let e = dlsym(handle, "cv_count_end") else { return nil }
        return (unsafeBitCast(b, to: Begin.self), unsafeBitCast(e, to: End.self))
    }()

    static var available: Bool { hooks != nil }

    private func count(_ body: () throws -> Void) rethrows -> Int {
        let (begin, end) = Self.hooks!
        begin()
        try body()
        return end()
    }

    @Test(.enabled(if: available, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
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

/* Malloc counter used for the figures (gcc -shared -fPIC -O2 -o libcounter.so counter.c):
   extern void *__libc_malloc(size_t); extern void *__libc_calloc(size_t, size_t);
   extern void *__libc_realloc(void *, size_t); extern void *__libc_memalign(size_t, size_t);
   static __thread int counting; static long count;
   void cv_count_begin(void) { count = 0; counting = 1; }
   long cv_count_end(void) { counting = 0; return count; }
   void *malloc(size_t n) { if (counting) count++; return __libc_malloc(n); }
   ... likewise calloc, realloc, posix_memalign, aligned_alloc, memalign. */
