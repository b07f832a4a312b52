import CallVaultCrypto
import CallVaultModel

/// The catalog's few uses of cryptography, in one place: token hashes, the audit chain, keyed
/// phone-number hashes and random secrets. All of it goes through `CallVaultCrypto` (OpenSSL).
enum CatalogHash {
    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Digest.sha256(bytes)
    }

    /// HMAC-SHA-256 of `data` under a 32-byte key kept in the catalog.
    static func hmacSHA256(key: [UInt8], data: [UInt8]) throws(CatalogError) -> [UInt8] {
        do {
            let secret = try SecretKey(copying: key)
            return Digest.hmacSHA256(key: secret, data: data)
        } catch {
            throw CatalogError(.cryptoFailure, "HMAC-SHA-256 failed: \(error)")
        }
    }

    /// `count` bytes from the operating system's CSPRNG (through OpenSSL).
    static func randomBytes(_ count: Int) throws(CatalogError) -> [UInt8] {
        do {
            return try SecureRandom.bytes(count)
        } catch {
            throw CatalogError(.cryptoFailure, "the random generator failed: \(error)")
        }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }
}
