import CallVaultCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// `SealSpeed SECONDS SIZE...`: our sealing throughput, one line per size:
/// `SIZE AESGCM_BYTES_PER_S WRITER_BYTES_PER_S`.
///
/// AESGCM is the per-segment seal alone (set nonce, 37-byte AAD, in-place update, final, tag) — what
/// `openssl speed -evp aes-256-gcm` is compared with. WRITER is `SealedFileWriter.append` to a file
/// in /tmp (copy, seal, one `write(2)`), starting a new file every 4096 segments so the disk does not fill.
/// `scripts/seal-speed` runs this and OpenSSL in the same run and prints the table.
@main
enum SealSpeed {
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let seconds = arguments.first.flatMap(Double.init), arguments.count >= 2 else {
            print("usage: SealSpeed SECONDS SIZE...")
            exit(2)
        }
        let sizes = arguments.dropFirst().compactMap(Int.init)
        let key = try SecretKey(randomByteCount: 32)
        for size in sizes {
            let gcm = try measureAESGCM(key: key, size: size, seconds: seconds)
            let writer = try measureWriter(key: key, size: size, seconds: seconds)
            print("\(size) \(Int(gcm)) \(Int(writer))")
        }
    }

    static func measureAESGCM(key: SecretKey, size: Int, seconds: Double) throws -> Double {
        let gcm = try AESGCM(key: key)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        let nonce = UnsafeMutableRawBufferPointer.allocate(byteCount: 12, alignment: 8)
        let aad = UnsafeMutableRawBufferPointer.allocate(byteCount: 37, alignment: 8)
        let tag = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { buffer.deallocate(); nonce.deallocate(); aad.deallocate(); tag.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x55)
        nonce.initializeMemory(as: UInt8.self, repeating: 1)
        aad.initializeMemory(as: UInt8.self, repeating: 2)
        var count: UInt32 = 0
        let start = now()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<256 {
                count &+= 1
                nonce.storeBytes(of: count.bigEndian, toByteOffset: 7, as: UInt32.self)
                try gcm.seal(
                    inPlace: buffer, nonce: UnsafeRawBufferPointer(nonce), aad: UnsafeRawBufferPointer(aad), tag: tag)
            }
            elapsed = now() - start
        }
        return Double(count) * Double(size) / elapsed
    }

    static func measureWriter(key: SecretKey, size: Int, seconds: Double) throws -> Double {
        var template = Array("/tmp/callvault-seal-speed-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SealedFileError(.ioFailed, "mkdtemp failed") }
        let directory = String(cString: made)
        defer { rmdir(directory) }
        let segment = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { segment.deallocate() }
        segment.initializeMemory(as: UInt8.self, repeating: 0x55)
        let metadata = SealedFileMetadata(
            kind: .voice, tenantID: "speed", recordingID: "speed", keyID: "speed", codec: .pcm16,
            sampleRate: 8000, createdAtMs: 0)
        var total = 0
        var busy = 0.0
        var file = 0
        while busy < seconds {
            let path = "\(directory)/\(file).cvr"
            file += 1
            // File creation (HKDF, open, header) is per recording, not per segment: not timed.
            let writer = try SealedFileWriter(path: path, dataKey: key, metadata: metadata, maxSegmentByteCount: size)
            let start = now()
            for _ in 0..<4096 { try writer.append(UnsafeRawBufferPointer(segment), last: false) }
            busy += now() - start
            total += 4096
            try writer.close()
            unlink(path)
        }
        return Double(total) * Double(size) / busy
    }
}
