import CLibCrypto

/// Wraps (encrypts) a key under a key-encryption key, bound to the context it belongs to.
///
/// Format: `version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, AES-256-GCM with a random 96-bit nonce;
/// the associated data is `version ‖ context.encoded`, so the version byte and the owner (tenant,
/// key id, purpose) are authenticated. Random nonces are safe here because one KEK wraps far fewer
/// than 2^32 keys (tenant keys wrap day keys and data keys, one per recording).
/// Not for the hot path: each call makes its own cipher context.
public enum KeyWrap {
    /// The format version this code writes and reads.
    public static let version: UInt8 = 1
    /// Bytes a wrap adds to the key: version, nonce and tag.
    public static let overheadByteCount = 1 + AESGCM.nonceByteCount + AESGCM.tagByteCount
    private static let maximumContextFieldByteCount = 64 * 1024

    /// Wraps `key` under `kek` for `context`.
    public static func wrap(_ key: SecretKey, under kek: SecretKey, context: KeyContext) throws(CryptoError) -> [UInt8] {
        let aad = try associatedData(context)
        let gcm = try AESGCM(key: kek)
        let n = key.count
        var out = [UInt8](repeating: 0, count: overheadByteCount + n)
        var failure: CryptoError?
        out.withUnsafeMutableBytes { out in
            do throws(CryptoError) {
                out[0] = version
                let nonce = UnsafeMutableRawBufferPointer(rebasing: out[1..<13])
                try SecureRandom.fill(nonce)
                let body = UnsafeMutableRawBufferPointer(rebasing: out[13..<(13 + n)])
                key.withUnsafeBytes { body.copyMemory(from: $0) }
                let tag = UnsafeMutableRawBufferPointer(rebasing: out[(13 + n)...])
                aad.withUnsafeBytes { aad in
                    do throws(CryptoError) {
                        try gcm.seal(inPlace: body, nonce: UnsafeRawBufferPointer(nonce), aad: aad, tag: tag)
                    } catch { failure = error }
                }
                if let failure { throw failure }
            } catch {
                OPENSSL_cleanse(out.baseAddress, out.count)
                failure = error
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Unwraps a key wrapped by `wrap` under the same `kek` and an equal `context`.
    ///
    /// Every failure — wrong KEK, another context, a flipped bit, a cut or unknown version — is
    /// `unwrapFailed`; the key bytes are decrypted straight into locked key memory and wiped on failure.
    /// - Parameter expectedByteCount: if given, a key of any other length is refused.
    public static func unwrap(
        _ wrapped: [UInt8], under kek: SecretKey, context: KeyContext, expectedByteCount: Int? = nil
    ) throws(CryptoError) -> SecretKey {
        guard wrapped.count > overheadByteCount else {
            throw CryptoError(.unwrapFailed, "a wrapped key must be longer than \(overheadByteCount) bytes, not \(wrapped.count)")
        }
        guard wrapped[0] == version else {
            throw CryptoError(.unwrapFailed, "wrapped key version \(wrapped[0]) is not supported (expected \(version))")
        }
        let n = wrapped.count - overheadByteCount
        if let expectedByteCount, expectedByteCount != n {
            throw CryptoError(.unwrapFailed, "wrapped key holds \(n) bytes, expected \(expectedByteCount)")
        }
        let aad = try associatedData(context)
        let gcm: AESGCM
        do { gcm = try AESGCM(key: kek) } catch {
            throw CryptoError(.unwrapFailed, "the key-encryption key is unusable (\(error.message))")
        }
        let key = try SecretKey(zeroedByteCount: n)
        var failed = false
        key.withUnsafeMutableBytes { body in
            wrapped.withUnsafeBytes { w in
                aad.withUnsafeBytes { aad in
                    body.copyMemory(from: UnsafeRawBufferPointer(rebasing: w[13..<(13 + n)]))
                    do throws(CryptoError) {
                        try gcm.open(inPlace: body, nonce: UnsafeRawBufferPointer(rebasing: w[1..<13]), aad: aad,
                                     tag: UnsafeRawBufferPointer(rebasing: w[(13 + n)...]))
                    } catch { failed = true }
                }
            }
        }
        if failed {
            throw CryptoError(
                .unwrapFailed,
                "wrapped key for purpose '\(context.purpose)' did not authenticate: wrong key-encryption key, "
                    + "wrong tenant/key id/purpose, or damaged")
        }
        return key
    }

    private static func associatedData(_ context: KeyContext) throws(CryptoError) -> [UInt8] {
        for field in [context.tenantID, context.keyID, context.purpose]
        where field.utf8.count > maximumContextFieldByteCount {
            throw CryptoError(.inputTooLarge, "a key context field exceeds \(maximumContextFieldByteCount) bytes")
        }
        return [version] + context.encoded
    }
}
