import CLibCrypto

/// HKDF with SHA-256 (RFC 5869): derives per-file keys and key commitments from a data key.
///
/// OpenSSL's `EVP_KDF` makes about 29 allocations per derivation, so this runs once per recording
/// file, never per segment. The corresponding C API is `EVP_KDF_derive` with the `HKDF` KDF.
public enum HKDF {
    /// The most bytes HKDF-SHA-256 can produce (255 × 32).
    public static let maximumOutputByteCount = 255 * 32

    nonisolated(unsafe) private static let kdf: OpaquePointer? = EVP_KDF_fetch(nil, "HKDF", nil)

    /// Derives a new key of `outputByteCount` bytes straight into locked key memory.
    public static func sha256(
        key: SecretKey, salt: [UInt8], info: [UInt8], outputByteCount: Int
    ) throws(CryptoError) -> SecretKey {
        try checkOutput(outputByteCount)
        let output = try SecretKey(zeroedByteCount: outputByteCount)
        try output.withUnsafeMutableBytes { (out) throws(CryptoError) in
            try derive(key: key, salt: salt, info: info, into: out)
        }
        return output
    }

    /// Derives `outputByteCount` bytes into an array: for test vectors and for non-secret outputs
    /// such as a key commitment (which is published in the file header).
    public static func sha256Bytes(
        key: SecretKey, salt: [UInt8], info: [UInt8], outputByteCount: Int
    ) throws(CryptoError) -> [UInt8] {
        try checkOutput(outputByteCount)
        var output = [UInt8](repeating: 0, count: outputByteCount)
        var failure: CryptoError?
        output.withUnsafeMutableBytes { out in
            do throws(CryptoError) { try derive(key: key, salt: salt, info: info, into: out) } catch { failure = error }
        }
        if let failure { throw failure }
        return output
    }

    private static func checkOutput(_ count: Int) throws(CryptoError) {
        guard count >= 1, count <= maximumOutputByteCount else {
            throw CryptoError(
                .invalidOutputLength, "HKDF-SHA-256 produces 1...\(maximumOutputByteCount) bytes, not \(count)")
        }
    }

    /// A C string that lives for the whole process (a string literal), as OSSL_PARAM keeps pointers.
    private static func cString(_ s: StaticString) -> UnsafeMutablePointer<CChar> {
        UnsafeMutablePointer(mutating: UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self))
    }

    private static func derive(
        key: SecretKey, salt: [UInt8], info: [UInt8], into out: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        guard info.count <= 1024 else {
            throw CryptoError(.inputTooLarge, "HKDF info is limited to 1024 bytes by OpenSSL, not \(info.count)")
        }
        guard let kdf else { throw OpenSSLError.error("EVP_KDF_fetch(HKDF)") }
        guard let context = EVP_KDF_CTX_new(kdf) else { throw OpenSSLError.error("EVP_KDF_CTX_new") }
        defer { EVP_KDF_CTX_free(context) }

        let ok: Int32 = key.withUnsafeBytes { keyBytes in
            salt.withUnsafeBytes { saltBytes in
                info.withUnsafeBytes { infoBytes in
                    var params: [OSSL_PARAM] = []
                    params.reserveCapacity(5)
                    params.append(OSSL_PARAM_construct_utf8_string(cString("digest"), cString("SHA256"), 0))
                    params.append(OSSL_PARAM_construct_octet_string(
                        cString("key"), UnsafeMutableRawPointer(mutating: keyBytes.baseAddress), keyBytes.count))
                    // Empty salt and info are left out: OpenSSL then uses RFC 5869's defaults
                    // (a hash-length zero salt, an empty info).
                    if saltBytes.count > 0 {
                        params.append(OSSL_PARAM_construct_octet_string(
                            cString("salt"), UnsafeMutableRawPointer(mutating: saltBytes.baseAddress), saltBytes.count))
                    }
                    if infoBytes.count > 0 {
                        params.append(OSSL_PARAM_construct_octet_string(
                            cString("info"), UnsafeMutableRawPointer(mutating: infoBytes.baseAddress), infoBytes.count))
                    }
                    params.append(OSSL_PARAM_construct_end())
                    return params.withUnsafeBufferPointer { p in
                        EVP_KDF_derive(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                                       p.baseAddress)
                    }
                }
            }
        }
        guard ok == 1 else {
            OPENSSL_cleanse(out.baseAddress, out.count)
            throw OpenSSLError.error("EVP_KDF_derive(HKDF-SHA256)")
        }
    }
}
