public import CallVaultModel
import CallVaultKeyProviders

extension KeyStore {
    /// Puts one owner's data key under legal hold: re-wraps it under the tenant's hold key, in one transaction.
    ///
    /// From then on destroying its day key does not touch it. Idempotent (a held key stays held).
    /// Throws `dataKeyShredded` if it is already gone: a hold cannot bring data back. With a key
    /// provider the hold key is wrapped by a provider key of its own, made first, outside the transaction.
    public func placeHold(ownerID: String, tenantID: String) throws(KeyStoreError) {
        if let provider = try provider(for: tenantID) { try ensureProviderHoldKey(provider, tenantID) }
        let placed = try write { db throws(KeyStoreError) -> Bool in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                throw try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
            }
            if row.held { return false }
            let keyID = row.keyID
            let kind = row.kind
            let key = try self.unwrapDataKey(db, row)
            guard let hold = try self.holdKey(db, tenantID, create: true) else {
                throw KeyStoreError(.databaseFailed, "hold key of tenant \(tenantID) could not be created")
            }
            let wrapped = try Self.wrap(key, under: hold.key, Self.dataContext(tenantID, keyID, kind, ownerID))
            try db.rewrapDataKey(ownerID: ownerID, wrappingKeyID: hold.keyID, wrapped: wrapped, held: true, expiresOn: nil)
            return true
        }
        if placed { logger.info("legal hold placed", metadata: ["tenant": "\(tenantID)", "owner": "\(ownerID)"]) }
    }

    /// Releases a legal hold: re-wraps the data key under the day key of `expiresOn`, or shreds it now if
    /// that day is before `today` or its day key was already destroyed.
    ///
    /// With a key provider the hold key is replaced in the same transaction (a fresh one under a fresh
    /// provider key; the other held keys re-wrapped) and the old provider key destroyed after it, so a
    /// backup's hold-wrapped copy of the released key cannot be opened once its day has passed.
    /// - Parameters:
    ///   - expiresOn: the expiry day the data returns to (normally its original one, from the catalog).
    ///   - today: the current UTC day (injected for tests and `--now`).
    public func releaseHold(ownerID: String, tenantID: String, expiresOn: CalendarDay, today: CalendarDay = .today())
        throws(KeyStoreError) -> HoldRelease
    {
        let provider = try provider(for: tenantID)
        if expiresOn >= today, let provider {
            do throws(KeyStoreError) {
                _ = try ensureProviderDayKey(provider, tenantID, expiresOn, kind(ofOwner: ownerID, tenantID: tenantID))
            } catch {
                // A shredded day: the transaction below shreds the data key; anything else is reported.
                if error.code != .dayKeyDestroyed { throw error }
            }
        }
        let generation = try provider.flatMap { (provider) throws(KeyStoreError) in try prepareHoldGeneration(provider, tenantID) }
        let outcome: HoldRelease
        do throws(KeyStoreError) {
            outcome = try releaseInTransaction(ownerID, tenantID, expiresOn, today, generation)
        } catch {
            if let generation, let provider { discardFreshHold(generation, provider) }
            throw error
        }
        if let generation {
            dayKeyCache.remove([generation.oldKeyID])
            dayKeyCache.insert(generation.fresh.key, for: generation.fresh.keyID)
            destroyRetiredProviderKeys()
        }
        if outcome == .shredded || generation != nil { try checkpointTruncate() }
        logger.info(
            "legal hold released",
            metadata: ["tenant": "\(tenantID)", "owner": "\(ownerID)", "shredded": "\(outcome == .shredded)"]
        )
        return outcome
    }

    private func discardFreshHold(_ generation: HoldKeyGeneration, _ provider: any KeyProvider) {
        _ = try? provider.destroyKey(named: generation.fresh.providerKey)
    }

    /// The release itself, with the hold key's replacement when `generation` is given.
    private func releaseInTransaction(
        _ ownerID: String, _ tenantID: String, _ expiresOn: CalendarDay, _ today: CalendarDay,
        _ generation: HoldKeyGeneration?
    ) throws(KeyStoreError) -> HoldRelease {
        try write { db throws(KeyStoreError) -> HoldRelease in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                throw try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
            }
            guard row.held else {
                throw KeyStoreError(.notHeld, "the data key of owner \(ownerID) is not under legal hold")
            }
            let keyID = row.keyID
            let kindText = row.kind
            guard let kind = KeyKind(rawValue: kindText) else {
                throw KeyStoreError(.databaseFailed, "data key \(keyID) has unknown kind '\(kindText)'")
            }
            let dayShredded = try db.isDayKeyDestroyed(tenantID: tenantID, day: expiresOn.description, kind: kind.rawValue)
            let outcome: HoldRelease
            if expiresOn < today || dayShredded {
                try self.shred(db, ownerID: ownerID, tenantID: tenantID, keyID: keyID, reason: .expired)
                outcome = .shredded
            } else {
                let key = try self.unwrapDataKey(db, row)
                let day = try self.dayKey(db, tenantID, expiresOn, kind)
                let wrapped = try Self.wrap(key, under: day.key, Self.dataContext(tenantID, keyID, kind.rawValue, ownerID))
                try db.rewrapDataKey(
                    ownerID: ownerID, wrappingKeyID: day.keyID, wrapped: wrapped, held: false,
                    expiresOn: expiresOn.description)
                outcome = .rewrapped(dayKeyID: day.keyID, expiresOn: expiresOn)
            }
            if let generation, try !self.replaceHoldKey(db, tenantID, generation) {
                throw KeyStoreError(.databaseFailed, "the hold key of tenant \(tenantID) changed during the release; try again")
            }
            return outcome
        }
    }

    /// The kind of an owner's data key (for `releaseHold` with a provider), or what its lookup throws.
    private func kind(ofOwner ownerID: String, tenantID: String) throws(KeyStoreError) -> KeyKind {
        try read { db throws(KeyStoreError) -> KeyKind in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                throw try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
            }
            let kindText = row.kind
            guard let kind = KeyKind(rawValue: kindText) else {
                throw KeyStoreError(.databaseFailed, "data key of owner \(ownerID) has unknown kind '\(kindText)'")
            }
            return kind
        }
    }
}
