// TEMPORARY: stands in for CallVaultCrypto's phase-1 API (Digest, SecretKey, SecureRandom) until branch
// `crypto` lands; removed by the merge of that branch. Same signatures, so nothing else changes.
import CLibCrypto

enum Digest {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = SHA256(bytes, bytes.count, &out)
        return out
    }
    static func hmacSHA256(key: SecretKey, data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 32
        _ = HMAC(EVP_sha256(), key.bytes, Int32(key.bytes.count), data, data.count, &out, &len)
        return out
    }
}
struct ShimError: Error {}
struct SecretKey {
    let bytes: [UInt8]
    init(copying raw: [UInt8]) throws(ShimError) { bytes = raw }
}
enum SecureRandom {
    static func bytes(_ n: Int) throws(ShimError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        _ = RAND_bytes(&out, Int32(n))
        return out
    }
}
