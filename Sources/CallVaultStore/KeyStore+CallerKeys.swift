import CallVaultCrypto
public import CallVaultModel

extension KeyStore {
    /// The tenant's caller keys: HKDF-SHA-256 of the tenant key with their own labels. Nothing is stored.
    public func callerKeys(tenantID: String) throws(KeyStoreError) -> CallerKeys {
        try read { db throws(KeyStoreError) -> CallerKeys in
            let tenant = try self.tenantKey(db, tenantID)
            do throws(CryptoError) {
                let salt = Array("callvault caller keys v1".utf8)
                return CallerKeys(
                    hashKey: try HKDF.sha256(
                        key: tenant, salt: salt, info: Array("phone-hash|\(tenantID)".utf8), outputByteCount: 32),
                    encryptionKey: try HKDF.sha256(
                        key: tenant, salt: salt, info: Array("phone-encrypt|\(tenantID)".utf8), outputByteCount: 32))
            } catch {
                throw KeyStoreError(.cryptoFailed, "cannot derive the caller keys of tenant \(tenantID): \(error.message)")
            }
        }
    }
}
