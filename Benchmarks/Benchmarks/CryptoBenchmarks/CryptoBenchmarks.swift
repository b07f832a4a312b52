import Benchmark
import CallVaultCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Sealing one 1 s segment: 8 kHz PCM16 (16,000 B) and Opus (~2,000 B), through the AEAD wrapper
/// alone and through `SealedFileWriter.append` (copy, seal in place, one `write(2)`).
///
/// Throughput is segments per second: multiply by the size in the name for bytes/s
/// (`scripts/seal-speed` prints bytes/s directly). mallocCountTotal must stay 0.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        maxDuration: .seconds(2)
    )
    let key = try! SecretKey(randomByteCount: 32)

    for size in [16_000, 2_000] {
        Benchmark("AESGCM_seal_\(size)B") { benchmark in
            let gcm = try AESGCM(key: key)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            let nonce = UnsafeMutableRawBufferPointer.allocate(byteCount: AESGCM.nonceByteCount, alignment: 8)
            let aad = UnsafeMutableRawBufferPointer.allocate(byteCount: 37, alignment: 8)
            let tag = UnsafeMutableRawBufferPointer.allocate(byteCount: AESGCM.tagByteCount, alignment: 8)
            defer { buffer.deallocate(); nonce.deallocate(); aad.deallocate(); tag.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0x55)
            nonce.initializeMemory(as: UInt8.self, repeating: 1)
            aad.initializeMemory(as: UInt8.self, repeating: 2)
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                // A different nonce per seal, as the writer does (index in bytes 7..<11).
                nonce.storeBytes(of: UInt32(truncatingIfNeeded: i).bigEndian, toByteOffset: 7, as: UInt32.self)
                try gcm.seal(
                    inPlace: buffer, nonce: UnsafeRawBufferPointer(nonce), aad: UnsafeRawBufferPointer(aad), tag: tag)
            }
            benchmark.stopMeasurement()
            blackHole(tag[0])
        }

        Benchmark("SealedFileWriter_append_\(size)B") { benchmark in
            var template = Array("/tmp/callvault-crypto-bench-XXXXXX".utf8CString)
            let directory = String(cString: mkdtemp(&template)!)
            let path = directory + "/bench.cvr"
            let metadata = SealedFileMetadata(
                kind: .voice, tenantID: "bench-tenant", recordingID: "bench-recording", keyID: "bench-key",
                codec: size == 16_000 ? .pcm16 : .opus, sampleRate: size == 16_000 ? 8000 : 48_000, createdAtMs: 0)
            let writer = try SealedFileWriter(path: path, dataKey: key, metadata: metadata, maxSegmentByteCount: size)
            let segment = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer {
                segment.deallocate()
                unlink(path)
                rmdir(directory)
            }
            segment.initializeMemory(as: UInt8.self, repeating: 0x55)
            try writer.append(UnsafeRawBufferPointer(segment), last: false)  // warm up
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try writer.append(UnsafeRawBufferPointer(segment), last: false)
            }
            benchmark.stopMeasurement()
            try writer.finish()
            try writer.close()
        }
    }
}
