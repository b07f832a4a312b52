/// The sealed segment format, AES-256-GCM, key wrapping and the key hierarchy's primitives.
///
/// This is the only module that holds OpenSSL handles; everything above it sees Swift types.
public enum CallVaultCrypto {}
