import CallVaultCrypto
import CallVaultModel
import Foundation

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

    static func wrap(_ key: SecretKey, under kek: SecretKey, _ context: KeyContext) throws(KeyStoreError) -> [UInt8] {
        do {
            return try KeyWrap.wrap(key, under: kek, context: context)
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
    func tenantKey(_ db: any KeyRecordTransaction, _ tenantID: String) throws(KeyStoreError) -> SecretKey {
        guard let row = try db.tenantKey(tenantID) else {
            throw KeyStoreError(.unknownTenant, "tenant \(tenantID) has no key (create the tenant first)")
        }
        return try Self.unwrap(row.wrapped, under: rootKey, Self.tenantContext(tenantID, row.keyID), what: "tenant key")
    }

    /// The tenant's hold key, created (wrapped under the tenant key) on first use when `create` is set.
    ///
    /// A hold key wrapped by the tenant's key provider (`provider_key`) is unwrapped by the provider
    /// through the cache; such a key is made by ``ensureProviderHoldKey(_:_:)`` before the transaction,
    /// never here.
    func holdKey(_ db: any KeyRecordTransaction, _ tenantID: String, create: Bool) throws(KeyStoreError) -> (
        keyID: String, key: SecretKey
    )? {
        if let row = try db.holdKey(tenantID) {
            if let providerKey = row.providerKey {
                return (
                    row.keyID,
                    try providerHoldKey(keyID: row.keyID, tenantID: tenantID, providerKey: providerKey, wrapped: row.wrapped)
                )
            }
            let key = try Self.unwrap(
                row.wrapped, under: try tenantKey(db, tenantID), Self.holdContext(tenantID, row.keyID), what: "hold key")
            return (row.keyID, key)
        }
        guard create else { return nil }
        if keyProviders.hasProvider(for: tenantID) {
            throw KeyStoreError(.databaseFailed, "the hold key of tenant \(tenantID) vanished while in use; try again")
        }
        let tenant = try tenantKey(db, tenantID)
        let keyID = KeyStoreIdentifier.random()
        let key = try Self.randomKey()
        let wrapped = try Self.wrap(key, under: tenant, Self.holdContext(tenantID, keyID))
        try db.insertHoldKey(tenantID: tenantID, WrappedKeyRecord(keyID: keyID, wrapped: wrapped), createdAt: Self.now())
        logger.info("hold key created", metadata: ["tenant": "\(tenantID)", "key": "\(keyID)"])
        return (keyID, key)
    }

    /// The day key for (tenant, day, kind), created on first use; refused if that day was already shredded.
    func dayKey(_ db: any KeyRecordTransaction, _ tenantID: String, _ day: CalendarDay, _ kind: KeyKind)
        throws(KeyStoreError) -> (keyID: String, key: SecretKey)
    {
        let tenant = try tenantKey(db, tenantID)
        let dayText = day.description
        if let row = try db.dayKey(tenantID: tenantID, day: dayText, kind: kind.rawValue) {
            if let providerKey = row.providerKey {
                let key = try providerDayKey(
                    keyID: row.keyID, tenantID: tenantID, day: dayText, kind: kind.rawValue, providerKey: providerKey,
                    wrapped: row.wrapped)
                return (row.keyID, key)
            }
            let key = try Self.unwrap(
                row.wrapped, under: tenant, Self.dayContext(tenantID, row.keyID, dayText, kind.rawValue), what: "day key")
            return (row.keyID, key)
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
        try db.insertDayKey(
            DayKeyRecord(
                keyID: keyID, tenantID: tenantID, day: dayText, kind: kind.rawValue, wrapped: wrapped, providerKey: nil,
                createdAt: Self.now()))
        logger.debug(
            "day key created",
            metadata: ["tenant": "\(tenantID)", "day": "\(dayText)", "kind": "\(kind.rawValue)", "key": "\(keyID)"]
        )
        return (keyID, key)
    }

    /// A day key by its id (the `wrapping_key_id` of a data key), or nil if it was destroyed.
    func dayKey(_ db: any KeyRecordTransaction, keyID: String, tenantID: String) throws(KeyStoreError) -> SecretKey? {
        guard let row = try db.dayKey(keyID: keyID), row.tenantID == tenantID else { return nil }
        if let providerKey = row.providerKey {
            return try providerDayKey(
                keyID: keyID, tenantID: tenantID, day: row.day, kind: row.kind, providerKey: providerKey,
                wrapped: row.wrapped)
        }
        let tenant = try tenantKey(db, tenantID)
        return try Self.unwrap(
            row.wrapped, under: tenant, Self.dayContext(tenantID, keyID, row.day, row.kind), what: "day key")
    }
}
