import CLibCrypto

/// Cryptographically secure random bytes from OpenSSL's DRBG (`RAND_bytes`).
///
/// Used for keys, salts and nonce prefixes. A failure is reported, never papered over with weaker
/// randomness: nothing secret may be made from a failed generator.
public enum SecureRandom {
    /// Fills `buffer` with random bytes. The corresponding C function is `RAND_bytes`.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard var base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let chunk = min(remaining, 1 << 30)
            guard RAND_bytes(base, Int32(chunk)) == 1 else {
                throw CryptoError(.randomFailure, "RAND_bytes failed (\(OpenSSLError.drain()))")
            }
            base += chunk
            remaining -= chunk
        }
    }

    /// `count` random bytes in a new array (salts, nonce prefixes, ids; not for keys — use `SecretKey`).
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        guard count >= 0 else { throw CryptoError(.invalidOutputLength, "cannot make \(count) random bytes") }
        var result = [UInt8](repeating: 0, count: count)
        var failure: CryptoError?
        result.withUnsafeMutableBytes { buffer in
            do throws(CryptoError) { try fill(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
