public import CallVaultCrypto
import Foundation

/// Signs a webhook request per the Standard Webhooks specification: the signed content is
/// `webhook-id.webhook-timestamp.body`, HMAC-SHA-256 under the secret's bytes (the base64 part after
/// `whsec_`), sent as `v1,<base64>`; several secrets (a rotation's overlap) give several signatures,
/// space-separated, any of which a receiver may accept.
public enum WebhookSigner {
    /// The `webhook-signature` header value for `body` sent as message `id` at `timestamp` (Unix seconds).
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secrets: [SecretKey]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content += body
        return secrets.map { "v1," + Data(Digest.hmacSHA256(key: $0, data: content)).base64EncodedString() }
            .joined(separator: " ")
    }

    /// The secret bytes of a `whsec_…` string (for tests and tools that hold the shown secret).
    public static func secret(fromShown shown: String) throws(CryptoError) -> SecretKey {
        guard shown.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(shown.dropFirst(6))), !bytes.isEmpty
        else {
            throw CryptoError(.invalidKeyLength, "a webhook secret is `whsec_` followed by base64")
        }
        return try SecretKey(copying: Array(bytes))
    }
}
