import CLibCrypto

/// AES-256-GCM over caller-owned buffers, in place, with one reusable OpenSSL context.
///
/// Built for the per-segment hot path: the cipher is fetched once per process and the key schedule is
/// set once per instance, so a seal or open only re-initialises the IV (`EVP_EncryptInit_ex2` with a
/// NULL cipher and key) and makes no heap allocation. Passing the cipher again would reset and
/// reallocate the context, which is why `rekey` passes only the key.
///
/// Only 12-byte nonces are accepted: other lengths go through GHASH and the IV length is never set
/// through params (CVE-2023-5363). Tags are always the full 16 bytes.
///
/// Not thread-safe: one instance per writer or reader, used from one thread at a time.
/// The corresponding C API is OpenSSL's `EVP_CIPHER_CTX` with the `AES-256-GCM` cipher.
public final class AESGCM {
    /// Key length in bytes.
    public static let keyByteCount = 32
    /// Nonce (IV) length in bytes.
    public static let nonceByteCount = 12
    /// Tag length in bytes.
    public static let tagByteCount = 16
    /// Largest message or associated data per call; GCM itself allows 2^36 − 32 bytes.
    public static let maximumMessageByteCount = Int(Int32.max)

    /// Fetched once for the process; fetching per context would allocate and take a lock.
    nonisolated(unsafe) private static let cipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)

    private let context: OpaquePointer

    /// A context keyed with `key` (32 bytes).
    public init(key: SecretKey) throws(CryptoError) {
        guard key.count == Self.keyByteCount else {
            throw CryptoError(.invalidKeyLength, "AES-256-GCM needs a 32-byte key, not \(key.count) bytes")
        }
        guard let cipher = Self.cipher else { throw OpenSSLError.error("EVP_CIPHER_fetch(AES-256-GCM)") }
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.error("EVP_CIPHER_CTX_new") }
        let ok = key.withUnsafeBytes { keyBytes in
            EVP_EncryptInit_ex2(context, cipher, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil)
        }
        guard ok == 1 else {
            EVP_CIPHER_CTX_free(context)
            throw OpenSSLError.error("EVP_EncryptInit_ex2 (set key)")
        }
        self.context = context
    }

    deinit {
        // EVP_CIPHER_CTX_free cleanses the provider context, which holds the key schedule.
        EVP_CIPHER_CTX_free(context)
    }

    /// Replaces the key, keeping the context (no allocation).
    ///
    /// A key that is not 32 bytes is a programming error (keys come from `SecretKey(randomByteCount:)`,
    /// `HKDF` or `KeyWrap.unwrap(…expectedByteCount: 32)`), so it traps rather than throws.
    public func rekey(_ key: SecretKey) {
        precondition(key.count == Self.keyByteCount, "AES-256-GCM needs a 32-byte key, not \(key.count) bytes")
        let ok = key.withUnsafeBytes { keyBytes in
            EVP_EncryptInit_ex2(context, nil, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil)
        }
        precondition(ok == 1, "EVP_EncryptInit_ex2 (rekey) failed: \(OpenSSLError.drain())")
    }

    /// Encrypts `buffer` in place and writes the 16-byte tag.
    /// - Parameters:
    ///   - buffer: plaintext on entry, ciphertext of the same length on return.
    ///   - nonce: exactly 12 bytes, never reused with the same key.
    ///   - aad: associated data, authenticated but not encrypted.
    ///   - tag: exactly 16 bytes of output.
    @inline(__always)
    public func seal(
        inPlace buffer: UnsafeMutableRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, tag: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        try checkLengths(message: buffer.count, nonce: nonce.count, aad: aad.count, tag: tag.count)
        guard EVP_EncryptInit_ex2(context, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nil) == 1
        else { throw OpenSSLError.error("EVP_EncryptInit_ex2 (set nonce)") }
        var outLength: Int32 = 0
        if aad.count > 0 {
            guard EVP_EncryptUpdate(context, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(aad.count)) == 1
            else { throw OpenSSLError.error("EVP_EncryptUpdate (aad)") }
        }
        if buffer.count > 0 {
            let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_EncryptUpdate(context, bytes, &outLength, bytes, Int32(buffer.count)) == 1,
                  Int(outLength) == buffer.count
            else { throw OpenSSLError.error("EVP_EncryptUpdate") }
        }
        var finalLength: Int32 = 0
        guard EVP_EncryptFinal_ex(context, nil, &finalLength) == 1, finalLength == 0 else {
            throw OpenSSLError.error("EVP_EncryptFinal_ex")
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagByteCount), tag.baseAddress) == 1
        else { throw OpenSSLError.error("EVP_CTRL_AEAD_GET_TAG") }
    }

    /// Decrypts `buffer` in place after checking `tag`; on any failure the buffer is zeroed.
    ///
    /// GCM decrypts before the tag is known to be good, so the buffer holds unauthenticated plaintext
    /// for a moment; it is wiped before `authenticationFailed` is thrown and must never be used then.
    @inline(__always)
    public func open(
        inPlace buffer: UnsafeMutableRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer
    ) throws(CryptoError) {
        try checkLengths(message: buffer.count, nonce: nonce.count, aad: aad.count, tag: tag.count)
        do throws(CryptoError) {
            try decrypt(buffer, nonce: nonce, aad: aad, tag: tag)
        } catch {
            if buffer.count > 0 { OPENSSL_cleanse(buffer.baseAddress, buffer.count) }
            throw error
        }
    }

    @inline(__always)
    private func decrypt(
        _ buffer: UnsafeMutableRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer
    ) throws(CryptoError) {
        guard EVP_DecryptInit_ex2(context, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nil) == 1
        else { throw OpenSSLError.error("EVP_DecryptInit_ex2 (set nonce)") }
        var outLength: Int32 = 0
        if aad.count > 0 {
            guard EVP_DecryptUpdate(context, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(aad.count)) == 1
            else { throw OpenSSLError.error("EVP_DecryptUpdate (aad)") }
        }
        if buffer.count > 0 {
            let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_DecryptUpdate(context, bytes, &outLength, bytes, Int32(buffer.count)) == 1,
                  Int(outLength) == buffer.count
            else { throw OpenSSLError.error("EVP_DecryptUpdate") }
        }
        // OpenSSL copies the expected tag; it does not write through this pointer.
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagByteCount),
                                  UnsafeMutableRawPointer(mutating: tag.baseAddress)) == 1
        else { throw OpenSSLError.error("EVP_CTRL_AEAD_SET_TAG") }
        var finalLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context, nil, &finalLength) == 1 else {
            ERR_clear_error()
            throw CryptoError(.authenticationFailed, "the GCM tag did not verify")
        }
    }

    @inline(__always)
    private func checkLengths(message: Int, nonce: Int, aad: Int, tag: Int) throws(CryptoError) {
        guard nonce == Self.nonceByteCount else {
            throw CryptoError(.invalidNonceLength, "AES-256-GCM needs a 12-byte nonce, not \(nonce) bytes")
        }
        guard tag == Self.tagByteCount else {
            throw CryptoError(.invalidTagLength, "AES-256-GCM tags are 16 bytes, not \(tag)")
        }
        guard message <= Self.maximumMessageByteCount, aad <= Self.maximumMessageByteCount else {
            throw CryptoError(.inputTooLarge, "a message or its associated data exceeds \(Self.maximumMessageByteCount) bytes")
        }
    }
}
