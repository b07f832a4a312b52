internal import CLibCrypto

/// HMAC-SHA1 with the key set once (RFC 3711 §4.2.1), for SRTP's per-packet authentication
/// (`CallVaultRTP`). Here because this module owns every libcrypto handle.
///
/// `EVP_MAC_init` with a NULL key restarts the keyed context without allocating, so each packet
/// costs the two hash passes only. The corresponding C API is `EVP_MAC` with `HMAC` / `SHA1`.
public final class HMACSHA1 {
    public static let tagLength = 20
    nonisolated(unsafe) private static let mac: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)

    private let context: OpaquePointer

    /// A context keyed with `key` (SRTP: 20 bytes).
    public init(key: UnsafeRawBufferPointer) {
        guard let mac = Self.mac, let context = EVP_MAC_CTX_new(mac) else {
            fatalError("OpenSSL could not create an HMAC context")
        }
        let ok = "digest".withCString { name in
            "SHA1".withCString { digest in
                var params = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return EVP_MAC_init(
                    context, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count, &params)
            }
        }
        precondition(ok == 1, "EVP_MAC_init (HMAC-SHA1 key) failed")
        self.context = context
    }

    deinit {
        EVP_MAC_CTX_free(context)
    }

    /// The tag of `message` followed by `suffix` (SRTP appends the rollover counter), written to
    /// `tag` (20 bytes).
    public func authenticate(
        _ message: UnsafeRawBufferPointer, _ suffix: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer
    ) {
        precondition(tag.count >= Self.tagLength, "an HMAC-SHA1 tag is 20 bytes")
        var ok = EVP_MAC_init(context, nil, 0, nil)
        if let base = message.baseAddress, message.count > 0 {
            ok &= EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), message.count)
        }
        if let base = suffix.baseAddress, suffix.count > 0 {
            ok &= EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), suffix.count)
        }
        var written = 0
        ok &= EVP_MAC_final(context, tag.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, tag.count)
        precondition(ok == 1 && written == Self.tagLength, "HMAC-SHA1 failed")
    }
}
