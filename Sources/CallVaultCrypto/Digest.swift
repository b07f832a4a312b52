import CLibCrypto

/// SHA-256 and HMAC-SHA-256: token hashes, keyed phone-number hashes, audit hash chains, file AAD.
///
/// These functions only fail if OpenSSL cannot allocate a few hundred bytes; that is treated like
/// any other out-of-memory condition in Swift (a trap), so callers get plain, non-throwing functions.
public enum Digest {
    /// Bytes in a SHA-256 digest and an HMAC-SHA-256 tag.
    public static let sha256ByteCount = 32

    /// SHA-256 of `data`, written into `output` (at least 32 bytes) without allocating.
    /// The corresponding C function is `EVP_Digest`.
    public static func sha256(_ data: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= sha256ByteCount, "a SHA-256 digest needs 32 bytes of output")
        var empty: UInt8 = 0
        var size: UInt32 = 0
        let ok = withUnsafePointer(to: &empty) { emptyPointer in
            EVP_Digest(
                data.baseAddress ?? UnsafeRawPointer(emptyPointer), data.count,
                output.baseAddress!.assumingMemoryBound(to: UInt8.self), &size, EVP_sha256(), nil)
        }
        precondition(ok == 1 && size == 32, "EVP_Digest(SHA-256) failed: \(OpenSSLError.drain())")
    }

    /// SHA-256 of `data` (32 bytes).
    public static func sha256(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: sha256ByteCount) { buffer, initialized in
            sha256(data, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = sha256ByteCount
        }
    }

    /// SHA-256 of `data` (32 bytes).
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 of any byte sequence, e.g. `string.utf8` (32 bytes).
    public static func sha256(_ data: some Sequence<UInt8>) -> [UInt8] {
        if let digest = data.withContiguousStorageIfAvailable({ sha256(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return sha256(Array(data))
    }

    /// SHA-256 of `data` as lowercase hex (64 characters).
    public static func sha256Hex(_ data: some Sequence<UInt8>) -> String {
        Hex.encode(sha256(data))
    }

    /// HMAC-SHA-256 of `data` under `key` (32 bytes). The corresponding C function is `HMAC`.
    public static func hmacSHA256(key: SecretKey, data: UnsafeRawBufferPointer) -> [UInt8] {
        var empty: UInt8 = 0
        return [UInt8](unsafeUninitializedCapacity: sha256ByteCount) { buffer, initialized in
            var size: UInt32 = 0
            let result = key.withUnsafeBytes { keyBytes in
                withUnsafePointer(to: &empty) { emptyPointer in
                    HMAC(
                        EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                        data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyPointer, data.count,
                        buffer.baseAddress, &size)
                }
            }
            precondition(result != nil && size == 32, "HMAC-SHA-256 failed: \(OpenSSLError.drain())")
            initialized = sha256ByteCount
        }
    }

    /// HMAC-SHA-256 of `data` under `key` (32 bytes).
    public static func hmacSHA256(key: SecretKey, data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { hmacSHA256(key: key, data: $0) }
    }

    /// HMAC-SHA-256 of `data` under `key`, written straight into a new ``SecretKey`` (32 bytes): for
    /// key derivations whose intermediate keys must not sit in ordinary arrays (AWS Signature Version 4
    /// derives its signing key as a chain of four HMACs).
    public static func hmacSHA256Key(key: SecretKey, data: some Sequence<UInt8>) throws(CryptoError) -> SecretKey {
        let message = Array(data)
        let derived = try SecretKey(zeroedByteCount: sha256ByteCount)
        var empty: UInt8 = 0
        derived.withUnsafeMutableBytes { output in
            var size: UInt32 = 0
            let result = key.withUnsafeBytes { keyBytes in
                message.withUnsafeBufferPointer { messageBytes in
                    withUnsafePointer(to: &empty) { emptyPointer in
                        HMAC(
                            EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                            messageBytes.baseAddress ?? emptyPointer, messageBytes.count,
                            output.baseAddress!.assumingMemoryBound(to: UInt8.self), &size)
                    }
                }
            }
            precondition(result != nil && size == 32, "HMAC-SHA-256 failed: \(OpenSSLError.drain())")
        }
        return derived
    }
}
