public import CallVaultCrypto

/// A tenant's keys for callers' phone numbers, derived from its tenant key in the key store, so the
/// catalog holds no key that can test a number: a copy of the catalog alone reveals nothing, and
/// destroying the tenant key makes every stored number unreadable and unfindable.
public struct CallerKeys: Sendable {
    /// HMAC-SHA-256 key for the per-tenant keyed hash that finds a caller's calls.
    public let hashKey: SecretKey
    /// AES-256-GCM key for the encrypted copy of the number (for a data subject's export).
    public let encryptionKey: SecretKey

    public init(hashKey: SecretKey, encryptionKey: SecretKey) {
        self.hashKey = hashKey
        self.encryptionKey = encryptionKey
    }
}
