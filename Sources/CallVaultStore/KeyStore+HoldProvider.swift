import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import Foundation

/// The hold key of a tenant whose keys are in a key provider: wrapped by a provider key of its own, and
/// replaced by a fresh generation whenever a held data key leaves it (hold released), so that a backup's
/// hold-wrapped copy of a released key dies with the old provider key, as erasure does for day keys.
extension KeyStore {
    /// A provider-wrapped hold key, from the cache or unwrapped by the tenant's provider.
    func providerHoldKey(keyID: String, tenantID: String, providerKey: String, wrapped: [UInt8])
        throws(KeyStoreError) -> SecretKey
    {
        if let key = dayKeyCache.key(keyID) { return key }
        guard let provider = try provider(for: tenantID) else {
            throw KeyStoreError(
                .providerFailed,
                "the hold key of tenant \(tenantID) is wrapped by the provider key \(providerKey), but this key store "
                    + "was opened without that tenant's key provider")
        }
        let key: SecretKey
        do throws(KeyProviderError) {
            key = try provider.unwrap(wrapped, under: providerKey, context: Self.holdContext(tenantID, keyID))
        } catch {
            throw providerError(error, provider, "cannot unwrap the hold key of tenant \(tenantID)")
        }
        dayKeyCache.insert(key, for: keyID)
        return key
    }

    /// Makes the tenant's hold key in its provider unless it has one (provider calls outside any
    /// transaction); a hold key made earlier under the tenant key is left as it is until its next
    /// regeneration moves it into the provider.
    func ensureProviderHoldKey(_ provider: any KeyProvider, _ tenantID: String) throws(KeyStoreError) {
        let exists = try read { db throws(KeyStoreError) in try db.holdKey(tenantID) != nil }
        if exists { return }
        let fresh = try freshHoldKey(provider, tenantID)
        let inserted = try write { db throws(KeyStoreError) -> Bool in
            if try db.holdKey(tenantID) != nil { return false }
            _ = try self.tenantKey(db, tenantID)  // the tenant must exist
            try db.insertHoldKey(
                tenantID: tenantID,
                WrappedKeyRecord(keyID: fresh.keyID, wrapped: fresh.wrapped, providerKey: fresh.providerKey),
                createdAt: Self.now())
            return true
        }
        if inserted {
            dayKeyCache.insert(fresh.key, for: fresh.keyID)
            logger.info("hold key created", metadata: ["tenant": "\(tenantID)", "providerKey": "\(fresh.providerKey)"])
        } else {
            _ = try? provider.destroyKey(named: fresh.providerKey)
        }
    }

    /// A fresh hold key wrapped under a fresh provider key.
    func freshHoldKey(_ provider: any KeyProvider, _ tenantID: String) throws(KeyStoreError)
        -> (keyID: String, key: SecretKey, providerKey: String, wrapped: [UInt8])
    {
        let name = Self.holdProviderKeyName(tenantID)
        do throws(KeyProviderError) {
            try provider.createKey(named: name)
        } catch {
            throw providerError(error, provider, "cannot create the hold key of tenant \(tenantID)")
        }
        let keyID = KeyStoreIdentifier.random()
        let key = try Self.randomKey()
        do throws(KeyProviderError) {
            let wrapped = try provider.wrap(key, under: name, context: Self.holdContext(tenantID, keyID))
            return (keyID, key, name, wrapped)
        } catch {
            _ = try? provider.destroyKey(named: name)
            throw providerError(error, provider, "cannot wrap the hold key of tenant \(tenantID)")
        }
    }

    /// The tenant's current hold key and a fresh one to replace it, made before a release's transaction.
    struct HoldKeyGeneration {
        let oldKeyID: String
        let oldKey: SecretKey
        /// The old hold key's provider key (nil: it was wrapped by the tenant key).
        let oldProviderKey: String?
        let fresh: (keyID: String, key: SecretKey, providerKey: String, wrapped: [UInt8])
    }

    /// Prepares the hold key's next generation; nil when the tenant has no hold key.
    func prepareHoldGeneration(_ provider: any KeyProvider, _ tenantID: String) throws(KeyStoreError)
        -> HoldKeyGeneration?
    {
        let current = try read { db throws(KeyStoreError) -> (String, SecretKey, String?)? in
            guard let row = try db.holdKey(tenantID), let hold = try self.holdKey(db, tenantID, create: false)
            else { return nil }
            return (hold.keyID, hold.key, row.providerKey)
        }
        guard let (keyID, key, providerKey) = current else { return nil }
        return HoldKeyGeneration(
            oldKeyID: keyID, oldKey: key, oldProviderKey: providerKey, fresh: try freshHoldKey(provider, tenantID))
    }

    /// Inside a transaction: re-wraps the tenant's held data keys under the fresh hold key, replaces the
    /// hold-key row and retires the old provider key. False when the hold key changed meanwhile.
    func replaceHoldKey(_ db: any KeyRecordTransaction, _ tenantID: String, _ generation: HoldKeyGeneration)
        throws(KeyStoreError) -> Bool
    {
        guard try db.holdKey(tenantID)?.keyID == generation.oldKeyID else { return false }
        for row in try db.dataKeys(wrappedBy: generation.oldKeyID, held: true) where row.tenantID == tenantID {
            let context = Self.dataContext(tenantID, row.keyID, row.kind, row.ownerID)
            let key = try Self.unwrap(row.wrapped, under: generation.oldKey, context, what: "data key")
            try db.rewrapDataKey(
                ownerID: row.ownerID, wrappingKeyID: generation.fresh.keyID,
                wrapped: try Self.wrap(key, under: generation.fresh.key, context), held: true, expiresOn: nil)
        }
        _ = try db.replaceHoldKey(
            tenantID: tenantID,
            WrappedKeyRecord(
                keyID: generation.fresh.keyID, wrapped: generation.fresh.wrapped, providerKey: generation.fresh.providerKey),
            createdAt: Self.now())
        if let old = generation.oldProviderKey {
            try db.retireProviderKey(old, tenantID: tenantID, day: "", kind: "hold", at: Self.now())
        }
        return true
    }

    /// Replaces the tenant's hold key with a fresh one under a fresh provider key on its own, outside a
    /// release (rotation, migration); the old provider key is retired. Returns false when the tenant has
    /// no hold key or it changed meanwhile (the fresh provider key is then destroyed).
    func regenerateHoldKey(_ provider: any KeyProvider, _ tenantID: String) throws(KeyStoreError) -> Bool {
        guard let generation = try prepareHoldGeneration(provider, tenantID) else { return false }
        let replaced: Bool
        do throws(KeyStoreError) {
            replaced = try write { db throws(KeyStoreError) in try self.replaceHoldKey(db, tenantID, generation) }
        } catch {
            _ = try? provider.destroyKey(named: generation.fresh.providerKey)
            throw error
        }
        guard replaced else {
            _ = try? provider.destroyKey(named: generation.fresh.providerKey)
            return false
        }
        dayKeyCache.remove([generation.oldKeyID])
        dayKeyCache.insert(generation.fresh.key, for: generation.fresh.keyID)
        return true
    }
}
