import CallVaultKeyProviders
public import CallVaultModel
internal import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
                try self.execute(
                    db,
                    """
                    INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at)
                    SELECT owner_id, tenant_id, key_id, 'expired', ? FROM data_key
                    WHERE wrapping_key_id = ? AND held = 0
                    """,
                    [now, key.keyID]
                )
                try self.execute(db, "DELETE FROM data_key WHERE wrapping_key_id = ? AND held = 0", [key.keyID])
                try self.execute(db, "DELETE FROM day_key WHERE key_id = ?", [key.keyID])
                try self.execute(
                    db,
                    "INSERT INTO destroyed_day_key (key_id, tenant_id, day, kind, destroyed_at) VALUES (?, ?, ?, ?, ?)",
                    [key.keyID, key.tenantID, key.day.description, key.kind.rawValue, now]
                )
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
        let doomed = try read { db throws(KeyStoreError) -> [Row] in
            var sql = "SELECT key_id, tenant_id, day, kind, provider_key FROM day_key WHERE day < ? AND provider_key IS NOT NULL"
            var arguments: StatementArguments = [day.description]
            if let kind {
                sql += " AND kind = ?"
                arguments += [kind.rawValue]
            }
            return try self.fetchAll(db, sql + " ORDER BY day, tenant_id, kind", arguments)
        }
        guard !doomed.isEmpty else { return ([], []) }
        if !doomed.contains(where: { keyProviders.hasProvider(for: $0["tenant_id"] as String) }) {
            throw KeyStoreError(
                .providerFailed,
                "\(doomed.count) expired day keys are wrapped by key-provider keys, but this key store was opened "
                    + "without a key provider; nothing was shredded"
            )
        }
        var destroyed = Set<String>()
        var failures: [String] = []
        for row in doomed {
            let keyID: String = row["key_id"]
            let providerKey: String = row["provider_key"]
            let tenantID: String = row["tenant_id"]
            let provider: any KeyProvider
            do throws(KeyStoreError) {
                guard let found = try self.provider(for: tenantID) else {
                    throw KeyStoreError(.providerFailed, "this key store was opened without tenant \(tenantID)'s key provider")
                }
                provider = found
            } catch {
                let dayText: String = row["day"]
                let kindText: String = row["kind"]
                failures.append("tenant \(tenantID) \(kindText) \(dayText): \(error.message)")
                continue
            }
            do throws(KeyProviderError) {
                let existed = try provider.destroyKey(named: providerKey)
                destroyed.insert(keyID)
                if !existed {
                    logger.info("provider key already destroyed", metadata: ["providerKey": "\(providerKey)"])
                }
            } catch {
                let dayText: String = row["day"]
                let kindText: String = row["kind"]
                failures.append(
                    "tenant \(tenantID) \(kindText) \(dayText): the \(provider.kind.rawValue) key provider at "
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
    func providerWrappedDayKeyIDs(_ db: Database, before day: CalendarDay, kind: KeyKind?) throws(KeyStoreError)
        -> Set<String>
    {
        var sql = "SELECT key_id FROM day_key WHERE day < ? AND provider_key IS NOT NULL"
        var arguments: StatementArguments = [day.description]
        if let kind {
            sql += " AND kind = ?"
            arguments += [kind.rawValue]
        }
        return Set(try fetchAll(db, sql, arguments).map { (row: Row) -> String in row["key_id"] })
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
    func expiredDayKeys(_ db: Database, before day: CalendarDay, kind: KeyKind?) throws(KeyStoreError)
        -> [DestroyedKey]
    {
        var sql = "SELECT key_id, tenant_id, day, kind FROM day_key WHERE day < ?"
        var arguments: StatementArguments = [day.description]
        if let kind {
            sql += " AND kind = ?"
            arguments += [kind.rawValue]
        }
        sql += " ORDER BY day, tenant_id, kind"
        var result: [DestroyedKey] = []
        for row in try fetchAll(db, sql, arguments) {
            let keyID: String = row["key_id"]
            let kindText: String = row["kind"]
            guard let rowKind = KeyKind(rawValue: kindText) else {
                throw KeyStoreError(.databaseFailed, "day key \(keyID) has unknown kind '\(kindText)'")
            }
            let owners = try fetchAll(
                db,
                "SELECT owner_id FROM data_key WHERE wrapping_key_id = ? AND held = 0 ORDER BY owner_id",
                [keyID]
            ).map { (owner: Row) -> String in owner["owner_id"] }
            result.append(
                DestroyedKey(
                    tenantID: row["tenant_id"],
                    day: try CalendarDay(row["day"] as String),
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
            let held: Int = row["held"]
            guard held == 0 else {
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
    func localDayKeyCount(_ db: Database, _ owners: [(ownerID: String, tenantID: String)]) throws(KeyStoreError) -> Int {
        var seen = Set<String>()
        for owner in owners {
            if let row = try fetchOne(
                db,
                """
                SELECT k.key_id FROM data_key d JOIN day_key k ON k.key_id = d.wrapping_key_id
                WHERE d.owner_id = ? AND d.tenant_id = ? AND d.held = 0 AND k.provider_key IS NULL
                """,
                [owner.ownerID, owner.tenantID])
            {
                seen.insert(row["key_id"] as String)
            }
        }
        return seen.count
    }

    /// Inside a write transaction: tombstones and deletes the owners' unheld data keys (set-based: the
    /// owners go to a temporary table, then three statements do the work).
    func shredOwners(_ db: Database, _ owners: [(ownerID: String, tenantID: String)], _ reason: DataKeyStatus.ShredReason)
        throws(KeyStoreError) -> DataKeyDestruction
    {
        try execute(db, "CREATE TEMP TABLE IF NOT EXISTS doomed_owner (owner_id TEXT PRIMARY KEY, tenant_id TEXT)")
        try execute(db, "DELETE FROM doomed_owner")
        do {
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO doomed_owner VALUES (?, ?)")
            for owner in owners { try insert.execute(arguments: [owner.ownerID, owner.tenantID]) }
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
        let match = "FROM data_key d JOIN doomed_owner o ON d.owner_id = o.owner_id AND d.tenant_id = o.tenant_id"
        var result = DataKeyDestruction()
        result.held = try fetchAll(db, "SELECT d.owner_id \(match) WHERE d.held = 1").map { $0[0] as String }
        try execute(
            db,
            """
            INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at)
            SELECT d.owner_id, d.tenant_id, d.key_id, ?, ? \(match) WHERE d.held = 0
            """,
            [reason.rawValue, Self.now()]
        )
        try execute(db, "DELETE FROM data_key WHERE held = 0 AND owner_id IN (SELECT d.owner_id \(match))")
        result.destroyed = db.changesCount
        try execute(db, "DELETE FROM doomed_owner")
        return result
    }

    /// Deletes one data key row and leaves its tombstone.
    func shred(_ db: Database, ownerID: String, tenantID: String, keyID: String, reason: DataKeyStatus.ShredReason)
        throws(KeyStoreError)
    {
        try execute(
            db,
            "INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at) VALUES (?, ?, ?, ?, ?)",
            [ownerID, tenantID, keyID, reason.rawValue, Self.now()]
        )
        try execute(db, "DELETE FROM data_key WHERE owner_id = ?", [ownerID])
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`, retried briefly while another connection blocks it.
    ///
    /// With `secure_delete` the deleted cells are zeroed in the new page images, but older images of the
    /// same pages stay in the WAL until it is checkpointed and truncated. The pragma's first column
    /// (`busy`) is 1 when a reader or writer kept it from finishing; then the old bytes may still be in
    /// the log, so this retries (~1 s) and otherwise throws `checkpointBlocked` rather than claiming success.
    public func checkpointTruncate() throws(KeyStoreError) {
        var last = (busy: -1, log: -1, checkpointed: -1)
        for attempt in 0..<Self.checkpointAttempts {
            do {
                last = try database.writeWithoutTransaction { db in
                    guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else {
                        return (busy: -1, log: -1, checkpointed: -1)
                    }
                    return (busy: row[0] as Int, log: row[1] as Int, checkpointed: row[2] as Int)
                }
            } catch {
                throw KeyStoreError(.databaseFailed, "key store \(path): checkpoint failed: \(error)")
            }
            if last.busy == 0 {
                if attempt > 0 {
                    logger.debug("checkpoint succeeded after retry", metadata: ["attempts": "\(attempt + 1)"])
                }
                return
            }
            usleep(Self.checkpointRetryMicroseconds)
        }
        throw KeyStoreError(
            .checkpointBlocked,
            "key store \(path): the WAL checkpoint stayed blocked (busy=\(last.busy), log=\(last.log), "
                + "checkpointed=\(last.checkpointed)); destroyed keys may remain in \(path)-wal until another "
                + "process ends its read transaction; run the command again"
        )
    }
}
