public import CallVaultCrypto
public import CallVaultModel

extension KeyStore {
    /// An operator's TOTP secret's wrap context: no tenant (operators may serve several), the operator's
    /// name, purpose `console:totp`; so a sealed secret copied to another operator's row does not open.
    static func operatorSecretContext(_ operatorName: String) -> KeyContext {
        KeyContext(tenantID: "", keyID: operatorName, purpose: "console:totp")
    }

    /// Seals an operator's 20-byte TOTP secret under the root key for the catalog (49 bytes).
    ///
    /// The root key stays in the key store (or the directory's root key file), never in the catalog, so
    /// a stolen or restored catalog alone cannot compute an operator's codes; every node that shares the
    /// root key opens it.
    public func sealOperatorSecret(_ secret: SecretKey, operatorName: String) throws(KeyStoreError) -> [UInt8] {
        try Self.wrap(secret, under: rootKey, Self.operatorSecretContext(operatorName))
    }

    /// Opens a secret sealed by ``sealOperatorSecret(_:operatorName:)`` for checking a code (memory only).
    public func openOperatorSecret(_ sealed: [UInt8], operatorName: String) throws(KeyStoreError) -> SecretKey {
        do {
            return try KeyWrap.unwrap(
                sealed, under: rootKey, context: Self.operatorSecretContext(operatorName), expectedByteCount: 20)
        } catch {
            throw KeyStoreError(
                .unwrapFailed,
                "the TOTP secret of operator \(operatorName) does not open under this key store's root key "
                    + "(another data directory's catalog row, or an altered one): enrol again with `operator totp disable` and `enable`")
        }
    }
}
