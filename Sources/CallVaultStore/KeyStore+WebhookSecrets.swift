public import CallVaultCrypto
public import CallVaultModel
import Foundation

extension KeyStore {
    /// A webhook signing secret's wrap context: its tenant and id, purpose `webhook`, so a wrapped secret
    /// cannot be moved to another tenant or passed off as another secret.
    static func webhookContext(_ tenantID: String, _ secretID: String) -> KeyContext {
        KeyContext(tenantID: tenantID, keyID: secretID, purpose: "webhook")
    }

    /// A fresh signing secret for `tenantID`, wrapped under its tenant key for the catalog, and its
    /// Standard Webhooks form (`whsec_` and the base64 of 32 random bytes) to show once.
    ///
    /// The tenant key stays in the key store (never in the catalog), so a stolen or restored catalog alone
    /// cannot sign a tenant's events.
    public func newWebhookSecret(tenantID: String) throws(KeyStoreError) -> (
        wrapped: WebhookEndpoint.WrappedSecret, shown: String
    ) {
        let secretID = KeyStoreIdentifier.random()
        let secret = try Self.randomKey()
        let wrapped = try read { db throws(KeyStoreError) -> [UInt8] in
            try Self.wrap(secret, under: try self.tenantKey(db, tenantID), Self.webhookContext(tenantID, secretID))
        }
        let shown = secret.withUnsafeBytes { "whsec_" + Data($0).base64EncodedString() }
        return (WebhookEndpoint.WrappedSecret(id: secretID, wrapped: wrapped), shown)
    }

    /// Unwraps a tenant's webhook signing secret (for the dispatcher, which keeps it in memory only).
    public func webhookSecret(tenantID: String, _ wrapped: WebhookEndpoint.WrappedSecret) throws(KeyStoreError)
        -> SecretKey
    {
        try read { db throws(KeyStoreError) -> SecretKey in
            try Self.unwrap(
                wrapped.wrapped,
                under: try self.tenantKey(db, tenantID),
                Self.webhookContext(tenantID, wrapped.id),
                what: "webhook secret"
            )
        }
    }
}
