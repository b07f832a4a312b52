public import CallVaultCrypto

/// Where the keys that shredding destroys live: the file root key and key store on this machine
/// (`local`), a PKCS#11 token (an HSM), or a Vault/OpenBao Transit engine (a KMS the customer runs).
///
/// A provider holds *key-encryption keys* that never leave it: CallVault names each one (a tenant's
/// key, a day key) and asks the provider to wrap and unwrap the software keys below it. Destroying a
/// provider key is what makes data unreadable for good: every wrapped copy of what it protected —
/// in the key store, in a database backup, on another node — is dead at once, because the only key
/// that opens it is gone from the provider.
///
/// Calls block (a PKCS#11 call, an HTTP round trip): never make them on an event loop. Implementations
/// are thread-safe and fail closed with a ``KeyProviderError`` that names the provider and the key,
/// never a PIN, a token or key bytes.
public protocol KeyProvider: Sendable {
    /// Which kind of provider this is.
    var kind: KeyProviderKind { get }

    /// Where its keys live, for messages and the audit log: a module path and token label, a Transit URL
    /// and mount. Never a PIN, a token or key bytes.
    var location: String { get }

    /// Creates a new AES-256 key-encryption key called `name` inside the provider.
    ///
    /// Throws `keyExists` when the name is taken: replacing a key would make what it wrapped unreadable.
    func createKey(named name: String) throws(KeyProviderError)

    /// Whether the provider holds a key called `name`.
    func keyExists(named name: String) throws(KeyProviderError) -> Bool

    /// Encrypts `key` under the provider key `name`, with `context` authenticated as associated data:
    /// the result unwraps only under the same key and context.
    func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8]

    /// Decrypts what ``wrap(_:under:context:)`` returned. Throws `unwrapFailed` when the bytes or the
    /// context were changed, `keyNotFound` when the key was destroyed (or revoked by its owner).
    func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError) -> SecretKey

    /// Destroys the key `name` in the provider, for good.
    /// - Returns: false when there was no such key (a sweep resumed after a crash destroys it once).
    @discardableResult
    func destroyKey(named name: String) throws(KeyProviderError) -> Bool
}

/// The kinds of key provider a data directory or a tenant can use.
public enum KeyProviderKind: String, Sendable, CaseIterable, Codable {
    /// The 0600 root key file and `keys.sqlite` in the data directory (the embedded default).
    case local
    /// A PKCS#11 token: network and cloud HSMs, YubiHSM, SoftHSM.
    case pkcs11
    /// HashiCorp Vault or OpenBao, Transit secrets engine.
    case transit
}
