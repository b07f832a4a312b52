import CLibCrypto

/// Comparison of secrets (tags, commitments, token hashes) in time independent of where they differ.
///
/// A byte-by-byte `==` stops at the first difference, which lets an attacker who can time many
/// guesses learn a secret one byte at a time. The corresponding C function is `CRYPTO_memcmp`.
public enum ConstantTime {
    /// True when both buffers have the same length and the same bytes. Lengths are not secret.
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
    }

    /// True when both arrays have the same length and the same bytes.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in equals(a, b) } }
    }
}
