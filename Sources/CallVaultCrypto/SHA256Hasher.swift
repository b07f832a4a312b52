import CLibCrypto

/// SHA-256 over data that arrives in pieces (a file read a megabyte at a time), so a large file is
/// hashed without holding it in memory. Not thread-safe; one hasher per digest.
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            preconditionFailure("EVP_DigestInit_ex(SHA-256) failed: \(OpenSSLError.drain())")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, data.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, data.count) == 1, "EVP_DigestUpdate failed: \(OpenSSLError.drain())")
    }

    /// The digest of everything given so far (32 bytes); the hasher takes no more data after it.
    public func finalize() -> [UInt8] {
        var size: UInt32 = 0
        return [UInt8](unsafeUninitializedCapacity: Digest.sha256ByteCount) { buffer, initialized in
            precondition(EVP_DigestFinal_ex(context, buffer.baseAddress, &size) == 1 && size == 32, "EVP_DigestFinal_ex failed")
            initialized = Digest.sha256ByteCount
        }
    }
}
