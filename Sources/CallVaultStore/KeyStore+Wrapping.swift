import CallVaultCrypto
import CallVaultModel
import Foundation
internal import GRDB

/// The hierarchy's wrap contexts and the walk from the root key down to a day or hold key.
extension KeyStore {
    static func tenantContext(_ tenantID: String, _ keyID: String) -> KeyContext {
        KeyContext(tenantID: tenantID, keyID: keyID, purpose: "tenant")
    }

    static func holdContext(_ tenantID: String, _ keyID: String) -> KeyContext {
        KeyContext(tenantID: tenantID, keyID: keyID, purpose: "hold")
    }

    static func dayContext(_ tenantID: String, _ keyID: String, _ day: String, _ kind: String) -> KeyContext {
        KeyContext(tenantID: tenantID, keyID: keyID, purpose: "day:\(kind):\(day)")
    }

    /// A data key's context names its owner, so it cannot be swapped onto another recording.
    static func dataContext(_ tenantID: String, _ keyID: String, _ kind: String, _ ownerID: String) -> KeyContext {
        KeyContext(tenantID: tenantID, keyID: keyID, purpose: "data:\(kind):\(ownerID)")
    }

    static func randomKey() throws(KeyStoreError) -> SecretKey {
        do {
            return try SecretKey(randomByteCount: 32)
        } catch {
            throw KeyStoreError(.cryptoFailed, "cannot generate a key: \(error)")
        }
    }

    static func wrap(_ key: SecretKey, under kek: SecretKey, _ context: KeyContext) throws(KeyStoreError) -> Data {
        do {
            return Data(try KeyWrap.wrap(key, under: kek, context: context))
        } catch {
            throw KeyStoreError(.cryptoFailed, "cannot wrap key \(context.keyID): \(error)")
        }
    }

    /// Unwraps, reporting failure as `unwrapFailed` with which key it was (tampered or moved row).
    static func unwrap(_ wrapped: [UInt8], under kek: SecretKey, _ context: KeyContext, what: String)
        throws(KeyStoreError) -> SecretKey
    {
        do {
            return try KeyWrap.unwrap(wrapped, under: kek, context: context, expectedByteCount: 32)
        } catch {
            throw KeyStoreError(
                .unwrapFailed,
                "\(what) \(context.keyID) of tenant \(context.tenantID) does not authenticate "
                    + "(the key store row was altered or moved; restore keys.sqlite from backup)"
            )
        }
    }

    /// The tenant key, unwrapped under the root key.
    func tenantKey(_ db: Database, _ tenantID: String) throws(KeyStoreError) -> SecretKey {
        guard let row = try fetchOne(db, "SELECT key_id, wrapped FROM tenant_key WHERE tenant_id = ?", [tenantID])
        else {
            throw KeyStoreError(.unknownTenant, "tenant \(tenantID) has no key (create the tenant first)")
        }
        let keyID: String = row["key_id"]
        return try Self.unwrap(
            Self.bytes(row, "wrapped"),
            under: rootKey,
            Self.tenantContext(tenantID, keyID),
            what: "tenant key"
        )
    }

    /// The tenant's hold key, created (wrapped under the tenant key) on first use when `create` is set.
    ///
    /// A hold key wrapped by the tenant's key provider (`provider_key`) is unwrapped by the provider
    /// through the cache; such a key is made by ``ensureProviderHoldKey(_:_:)`` before the transaction,
    /// never here.
    func holdKey(_ db: Database, _ tenantID: String, create: Bool) throws(KeyStoreError) -> (
        keyID: String, key: SecretKey
    )? {
        if let row = try fetchOne(db, "SELECT key_id, wrapped, provider_key FROM hold_key WHERE tenant_id = ?", [tenantID]) {
            let keyID: String = row["key_id"]
            if let providerKey = row["provider_key"] as String? {
                return (keyID, try providerHoldKey(keyID: keyID, tenantID: tenantID, providerKey: providerKey, wrapped: Self.bytes(row, "wrapped")))
            }
            let key = try Self.unwrap(
                Self.bytes(row, "wrapped"),
                under: try tenantKey(db, tenantID),
                Self.holdContext(tenantID, keyID),
                what: "hold key"
            )
            return (keyID, key)
        }
        guard create else { return nil }
        if keyProviders.hasProvider(for: tenantID) {
            throw KeyStoreError(.databaseFailed, "the hold key of tenant \(tenantID) vanished while in use; try again")
        }
        let tenant = try tenantKey(db, tenantID)
        let keyID = KeyStoreIdentifier.random()
        let key = try Self.randomKey()
        let wrapped = try Self.wrap(key, under: tenant, Self.holdContext(tenantID, keyID))
        try execute(
            db,
            "INSERT INTO hold_key (tenant_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
            [tenantID, keyID, wrapped, Self.now()]
        )
        logger.info("hold key created", metadata: ["tenant": "\(tenantID)", "key": "\(keyID)"])
        return (keyID, key)
    }

    /// The day key for (tenant, day, kind), created on first use; refused if that day was already shredded.
    func dayKey(_ db: Database, _ tenantID: String, _ day: CalendarDay, _ kind: KeyKind) throws(KeyStoreError) -> (
        keyID: String, key: SecretKey
    ) {
        let tenant = try tenantKey(db, tenantID)
        let dayText = day.description
        if let row = try fetchOne(
            db,
            "SELECT key_id, wrapped, provider_key FROM day_key WHERE tenant_id = ? AND day = ? AND kind = ?",
            [tenantID, dayText, kind.rawValue]
        ) {
            let keyID: String = row["key_id"]
            let providerKey: String? = row["provider_key"]
            if let providerKey {
                let key = try providerDayKey(
                    keyID: keyID, tenantID: tenantID, day: dayText, kind: kind.rawValue, providerKey: providerKey,
                    wrapped: Self.bytes(row, "wrapped"))
                return (keyID, key)
            }
            let key = try Self.unwrap(
                Self.bytes(row, "wrapped"),
                under: tenant,
                Self.dayContext(tenantID, keyID, dayText, kind.rawValue),
                what: "day key"
            )
            return (keyID, key)
        }
        try checkDayNotDestroyed(db, tenantID, dayText, kind)
        if keyProviders.hasProvider(for: tenantID) {
            // Provider-wrapped day keys are made by `ensureProviderDayKey` before the write transaction.
            throw KeyStoreError(
                .databaseFailed,
                "the \(kind.rawValue) day key of tenant \(tenantID) for \(dayText) vanished while in use; try again"
            )
        }
        let keyID = KeyStoreIdentifier.random()
        let key = try Self.randomKey()
        let wrapped = try Self.wrap(key, under: tenant, Self.dayContext(tenantID, keyID, dayText, kind.rawValue))
        try execute(
            db,
            "INSERT INTO day_key (key_id, tenant_id, day, kind, wrapped, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [keyID, tenantID, dayText, kind.rawValue, wrapped, Self.now()]
        )
        logger.debug(
            "day key created",
            metadata: ["tenant": "\(tenantID)", "day": "\(dayText)", "kind": "\(kind.rawValue)", "key": "\(keyID)"]
        )
        return (keyID, key)
    }

    /// A day key by its id (the `wrapping_key_id` of a data key), or nil if it was destroyed.
    func dayKey(_ db: Database, keyID: String, tenantID: String) throws(KeyStoreError) -> SecretKey? {
        guard
            let row = try fetchOne(
                db,
                "SELECT day, kind, wrapped, provider_key FROM day_key WHERE key_id = ? AND tenant_id = ?",
                [keyID, tenantID]
            )
        else { return nil }
        let day: String = row["day"]
        let kind: String = row["kind"]
        let providerKey: String? = row["provider_key"]
        if let providerKey {
            return try providerDayKey(
                keyID: keyID, tenantID: tenantID, day: day, kind: kind, providerKey: providerKey,
                wrapped: Self.bytes(row, "wrapped"))
        }
        let tenant = try tenantKey(db, tenantID)
        return try Self.unwrap(
            Self.bytes(row, "wrapped"),
            under: tenant,
            Self.dayContext(tenantID, keyID, day, kind),
            what: "day key"
        )
    }
}
