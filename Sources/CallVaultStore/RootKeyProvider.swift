public import CallVaultCrypto
public import CallVaultModel

/// Where the root key comes from: the top of the key hierarchy, which wraps every tenant key.
///
/// A protocol so that an external KMS (which unwraps tenant keys itself, or hands out the root key to
/// an attested process) can replace the file later without the key store changing.
public protocol RootKeyProvider: Sendable {
    /// A human-readable name of the source (a path, a KMS key ARN) for messages; never key bytes.
    var sourceDescription: String { get }

    /// Loads the root key, refusing a source that is missing or not protected well enough.
    func loadRootKey() throws(KeyStoreError) -> SecretKey
}
