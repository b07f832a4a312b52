internal import CLibCrypto

/// AES-128 in counter mode (RFC 3711 §4.1.1) with one reusable OpenSSL context, for SRTP
/// (`CallVaultRTP`). Here because this module owns every libcrypto handle.
///
/// The key schedule is set once; each packet only sets its 16-byte IV (`EVP_EncryptInit_ex2` with
/// a NULL cipher and key), so applying the keystream makes no heap allocation. The 128-bit counter
/// OpenSSL increments is the SRTP one: the low 16 bits count blocks within a packet.
/// The corresponding C API is `EVP_CIPHER_CTX` with `AES-128-CTR`.
public final class AESCounterMode {
    nonisolated(unsafe) private static let cipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-128-CTR", nil)

    private let context: OpaquePointer

    /// A context keyed with `key` (16 bytes; the caller checked).
    public init(key: UnsafeRawBufferPointer) {
        precondition(key.count == 16, "AES-128 needs a 16-byte key")
        guard let cipher = Self.cipher, let context = EVP_CIPHER_CTX_new() else {
            fatalError("OpenSSL could not create an AES-128-CTR context")
        }
        let ok = EVP_EncryptInit_ex2(context, cipher, key.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil)
        precondition(ok == 1, "EVP_EncryptInit_ex2 (AES-128-CTR key) failed")
        self.context = context
    }

    deinit {
        EVP_CIPHER_CTX_free(context)
    }

    /// XORs the keystream that starts at counter block `iv` (16 bytes) into `buffer`, in place
    /// (encryption and decryption are the same operation).
    public func apply(iv: UnsafeRawBufferPointer, to buffer: UnsafeMutableRawBufferPointer) {
        precondition(iv.count == 16, "the AES-CM IV is 16 bytes")
        let ok = EVP_EncryptInit_ex2(context, nil, nil, iv.baseAddress?.assumingMemoryBound(to: UInt8.self), nil)
        precondition(ok == 1, "EVP_EncryptInit_ex2 (AES-128-CTR IV) failed")
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count > 0 else { return }
        var written: Int32 = 0
        let updated = EVP_EncryptUpdate(context, base, &written, base, Int32(buffer.count))
        precondition(updated == 1 && Int(written) == buffer.count, "EVP_EncryptUpdate (AES-128-CTR) failed")
    }
}
