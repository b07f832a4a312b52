import CallVaultKeyProviders
public import CallVaultModel


extension KeyStore {
    /// Destroys every day key whose day is before `day` (of one kind, or both), with the data keys under it,
    /// and throws `providerFailed` if the key provider could not destroy some of them (those that it did
    /// destroy are shredded and committed first). See ``sweepDayKeys(expiringBefore:kind:)``.
    @discardableResult
    public func destroyDayKeys(expiringBefore day: CalendarDay, kind: KeyKind? = nil) throws(KeyStoreError)
        -> [DestroyedKey]
    {
        let sweep = try sweepDayKeys(expiringBefore: day, kind: kind)
        if !sweep.failures.isEmpty {
            throw KeyStoreError(
                .providerFailed,
                "the key provider could not destroy \(sweep.failures.count) expired day keys "
                    + "(\(sweep.failures.joined(separator: "; "))); they and their data keys were not marked shredded "
                    + "(\(sweep.destroyed.count) others were); run the sweep again when the provider answers"
            )
        }
        return sweep.destroyed
    }

    /// What one pass over expired day keys did: the day keys destroyed, and those the key provider failed
    /// to destroy (each a line naming tenant, kind, day and the provider's error), left for the next pass.
    public struct DayKeySweep: Sendable, Equatable {
        public var destroyed: [DestroyedKey] = []
        public var failures: [String] = []
    }

    /// Destroys every day key whose day is before `day` (of one kind, or both), with the data keys under it.
    ///
    /// Day keys wrapped by a key provider are shredded by destroying their provider keys first (see
    /// ``destroyProviderKeys(expiringBefore:kind:)``); one the provider fails to destroy (down, refusing,
    /// one tenant's key revoked) stays, with its data keys, and is listed in `failures`: other day keys
    /// and other tenants go on. One transaction per call: day keys and their (unheld) data keys are
    /// deleted, tombstones written, then the WAL is checkpointed with `TRUNCATE` so the deleted bytes
    /// are gone from the files. Held data keys are wrapped under the hold key and survive.
    /// - Parameter day: the first day that is kept; pass today (UTC) to shred everything that has expired.
    /// - Returns: what was destroyed, for the catalog and the audit log, and what failed.
    public func sweepDayKeys(expiringBefore day: CalendarDay, kind: KeyKind? = nil) throws(KeyStoreError)
        -> DayKeySweep
    {
        let inProvider = try destroyProviderKeys(expiringBefore: day, kind: kind)
        let destroyed = try write { db throws(KeyStoreError) -> [DestroyedKey] in
            // A provider-wrapped day key whose provider key is not destroyed (failed, or made after the
            // provider pass) waits for the next sweep: its rows go only once its provider key is gone.
            let pending = try self.providerWrappedDayKeyIDs(db, before: day, kind: kind)
            let doomed = try self.expiredDayKeys(db, before: day, kind: kind).filter {
                !pending.contains($0.keyID) || inProvider.destroyed.contains($0.keyID)
            }
            let now = Self.now()
            for key in doomed {
                try db.shredDataKeys(wrappedBy: key.keyID, reason: DataKeyStatus.ShredReason.expired.rawValue, at: now)
                try db.deleteDayKey(keyID: key.keyID)
                try db.recordDestroyedDayKey(
                    DayKeyRecord(
                        keyID: key.keyID, tenantID: key.tenantID, day: key.day.description, kind: key.kind.rawValue,
                        wrapped: [], providerKey: nil, createdAt: now),
                    at: now)
            }
            return doomed
        }
        if !destroyed.isEmpty {
            try checkpointTruncate()
            logger.info(
                "day keys destroyed",
                metadata: [
                    "before": "\(day)", "dayKeys": "\(destroyed.count)",
                    "dataKeys": "\(destroyed.reduce(0) { $0 + $1.ownerIDs.count })",
                ]
            )
        }
        return DayKeySweep(destroyed: destroyed, failures: inProvider.failures)
    }

    /// Destroys, in the key provider, the provider keys of the day keys before `day`: the step that
    /// shreds them. Only then are their rows deleted. A crash in between leaves rows whose provider key is
    /// gone; the next sweep destroys it again (`destroyKey` finds nothing: false) and deletes them.
    ///
    /// Fails closed per key: a provider key the provider cannot destroy (down, refusing) is listed in
    /// `failures` (tenant, kind, day, the provider's error) and its rows stay; without any provider
    /// configured, this throws `providerFailed` and nothing is shredded.
    /// - Returns: the ids of the day keys whose provider keys are gone now, and the failures.
    func destroyProviderKeys(expiringBefore day: CalendarDay, kind: KeyKind?) throws(KeyStoreError)
        -> (destroyed: Set<String>, failures: [String])
    {
        let doomed = try read { db throws(KeyStoreError) -> [DayKeyRecord] in
            try db.dayKeys(DayKeyFilter(before: day.description, kind: kind?.rawValue, providerWrapped: true))
        }
        guard !doomed.isEmpty else { return ([], []) }
        if !doomed.contains(where: { keyProviders.hasProvider(for: $0.tenantID) }) {
            throw KeyStoreError(
                .providerFailed,
                "\(doomed.count) expired day keys are wrapped by key-provider keys, but this key store was opened "
                    + "without a key provider; nothing was shredded"
            )
        }
        var destroyed = Set<String>()
        var failures: [String] = []
        for row in doomed {
            let keyID = row.keyID
            let providerKey = row.providerKey ?? ""
            let tenantID = row.tenantID
            let provider: any KeyProvider
            do throws(KeyStoreError) {
                guard let found = try self.provider(for: tenantID) else {
                    throw KeyStoreError(.providerFailed, "this key store was opened without tenant \(tenantID)'s key provider")
                }
                provider = found
            } catch {
                failures.append("tenant \(tenantID) \(row.kind) \(row.day): \(error.message)")
                continue
            }
            do throws(KeyProviderError) {
                let existed = try provider.destroyKey(named: providerKey)
                destroyed.insert(keyID)
                if !existed {
                    logger.info("provider key already destroyed", metadata: ["providerKey": "\(providerKey)"])
                }
            } catch {
                failures.append(
                    "tenant \(tenantID) \(row.kind) \(row.day): the \(provider.kind.rawValue) key provider at "
                        + "\(provider.location) failed (\(error.code.rawValue): \(error.message))")
            }
        }
        dayKeyCache.remove(destroyed)
        if !failures.isEmpty {
            logger.warning(
                "a key provider could not destroy some expired day keys; they stay until the next sweep",
                metadata: ["failed": "\(failures.count)", "of": "\(doomed.count)"])
        }
        return (destroyed, failures)
    }

    /// The ids of the provider-wrapped day keys before `day` (of `kind`, or both).
    func providerWrappedDayKeyIDs(_ db: any KeyRecordTransaction, before day: CalendarDay, kind: KeyKind?)
        throws(KeyStoreError) -> Set<String>
    {
        Set(try db.dayKeys(DayKeyFilter(before: day.description, kind: kind?.rawValue, providerWrapped: true)).map(\.keyID))
    }

    /// What `destroyDayKeys(expiringBefore:kind:)` would destroy now, destroying nothing (`sweep --dry-run`).
    public func dayKeysToDestroy(expiringBefore day: CalendarDay, kind: KeyKind? = nil) throws(KeyStoreError)
        -> [DestroyedKey]
    {
        try read { db throws(KeyStoreError) -> [DestroyedKey] in
            try self.expiredDayKeys(db, before: day, kind: kind)
        }
    }

    /// The day keys before `day` (of `kind`, or both), each with the owners of its unheld data keys.
    func expiredDayKeys(_ db: any KeyRecordTransaction, before day: CalendarDay, kind: KeyKind?) throws(KeyStoreError)
        -> [DestroyedKey]
    {
        var result: [DestroyedKey] = []
        for row in try db.dayKeys(DayKeyFilter(before: day.description, kind: kind?.rawValue)) {
            let keyID = row.keyID
            let kindText = row.kind
            guard let rowKind = KeyKind(rawValue: kindText) else {
                throw KeyStoreError(.databaseFailed, "day key \(keyID) has unknown kind '\(kindText)'")
            }
            let owners = try db.dataKeys(wrappedBy: keyID, held: false).map(\.ownerID)
            result.append(
                DestroyedKey(
                    tenantID: row.tenantID,
                    day: try CalendarDay(row.day),
                    kind: rowKind,
                    keyID: keyID,
                    ownerIDs: owners
                )
            )
        }
        return result
    }

    /// Destroys one owner's data key now: erasure on a data subject's request, or expiry of one
    /// recording before its whole day key goes (the sweeper shreds at the recording's instant).
    ///
    /// A held key is refused (`onHold`): a legal hold outranks erasure until it is released. Erasure
    /// (`erased`) regenerates a provider-wrapped day key above the key, as ``destroyDataKeys(owners:reason:)``.
    /// - Parameter reason: recorded in the key's tombstone (`erased` unless the sweeper says `expired`).
    /// - Returns: true if a key was destroyed now, false if it had already been shredded.
    @discardableResult
    public func destroyDataKey(
        ownerID: String, tenantID: String, reason: DataKeyStatus.ShredReason = .erased
    ) throws(KeyStoreError) -> Bool {
        try read { db throws(KeyStoreError) in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                let error = try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
                if error.code == .dataKeyShredded { return }
                throw error
            }
            guard !row.held else {
                throw KeyStoreError(
                    .onHold,
                    "the data key of owner \(ownerID) is under legal hold; release the hold before erasing it"
                )
            }
        }
        return try destroyDataKeys(owners: [(ownerID, tenantID)], reason: reason).destroyed > 0
    }

    /// Destroys many owners' data keys in one transaction and one WAL checkpoint: the sweeper's path
    /// for large batches of expired recordings (one transaction per key would cap it at disk-sync speed),
    /// and erasure's.
    ///
    /// Owners whose key is already shredded or never existed are skipped; held keys are left alone and
    /// returned in `held`, so the caller can report them. With `erased` and a key provider, the day keys
    /// above the erased keys are regenerated in the same transaction, so that no backup can open the erased
    /// keys afterwards (see `KeyStore+Regeneration.swift`); a provider failure then throws before anything
    /// is erased.
    @discardableResult
    public func destroyDataKeys(
        owners: [(ownerID: String, tenantID: String)], reason: DataKeyStatus.ShredReason
    ) throws(KeyStoreError) -> DataKeyDestruction {
        guard !owners.isEmpty else { return DataKeyDestruction() }
        if reason == .erased {
            // Per tenant: a tenant whose day keys are in a provider gets them regenerated by it.
            var byTenant: [String: [(ownerID: String, tenantID: String)]] = [:]
            for owner in owners { byTenant[owner.tenantID, default: []].append(owner) }
            if byTenant.keys.contains(where: { keyProviders.hasProvider(for: $0) }) {
                var total = DataKeyDestruction()
                for (tenantID, group) in byTenant.sorted(by: { $0.key < $1.key }) {
                    let part: DataKeyDestruction
                    if let provider = try provider(for: tenantID) {
                        part = try eraseRegeneratingDayKeys(group, provider)
                    } else {
                        part = try destroyLocally(group, reason)
                    }
                    total.destroyed += part.destroyed
                    total.held += part.held
                    total.dayKeysRegenerated += part.dayKeysRegenerated
                    total.dataKeysRewrapped += part.dataKeysRewrapped
                    total.providerKeysPending += part.providerKeysPending
                    total.localDayKeys += part.localDayKeys
                }
                return total
            }
        }
        return try destroyLocally(owners, reason)
    }

    /// Destroys the owners' data keys in one transaction, regenerating nothing (expiry, or erasure of
    /// day keys under tenant keys).
    func destroyLocally(_ owners: [(ownerID: String, tenantID: String)], _ reason: DataKeyStatus.ShredReason)
        throws(KeyStoreError) -> DataKeyDestruction
    {
        let result = try write { db throws(KeyStoreError) -> DataKeyDestruction in
            let localDayKeys = reason == .erased ? try self.localDayKeyCount(db, owners) : 0
            var result = try self.shredOwners(db, owners, reason)
            result.localDayKeys = localDayKeys
            return result
        }
        if result.destroyed > 0 {
            try checkpointTruncate()
            logger.info("data keys destroyed", metadata: ["count": "\(result.destroyed)", "reason": "\(reason)"])
        }
        return result
    }

    /// How many distinct day keys wrapped in this store (not by a provider) hold the owners' unheld data keys.
    func localDayKeyCount(_ db: any KeyRecordTransaction, _ owners: [(ownerID: String, tenantID: String)])
        throws(KeyStoreError) -> Int
    {
        var seen = Set<String>()
        for owner in owners {
            guard let data = try db.dataKey(ownerID: owner.ownerID, tenantID: owner.tenantID), !data.held,
                let day = try db.dayKey(keyID: data.wrappingKeyID), day.providerKey == nil
            else { continue }
            seen.insert(day.keyID)
        }
        return seen.count
    }

    /// Inside a write transaction: tombstones and deletes the owners' unheld data keys.
    func shredOwners(
        _ db: any KeyRecordTransaction, _ owners: [(ownerID: String, tenantID: String)], _ reason: DataKeyStatus.ShredReason
    ) throws(KeyStoreError) -> DataKeyDestruction {
        let outcome = try db.shredDataKeys(owners: owners, reason: reason.rawValue, at: Self.now())
        var result = DataKeyDestruction()
        result.held = outcome.held
        result.destroyed = outcome.destroyed
        return result
    }

    /// Deletes one data key row and leaves its tombstone.
    func shred(
        _ db: any KeyRecordTransaction, ownerID: String, tenantID: String, keyID: String,
        reason: DataKeyStatus.ShredReason
    ) throws(KeyStoreError) {
        try db.shredDataKey(ownerID: ownerID, tenantID: tenantID, keyID: keyID, reason: reason.rawValue, at: Self.now())
    }
}
