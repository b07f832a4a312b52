import CallVaultKeyProviders
public import CallVaultModel
internal import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension KeyStore {
    /// Destroys every day key whose day is before `day` (of one kind, or both), with the data keys under it.
    ///
    /// Day keys wrapped by a key provider are shredded by destroying their provider keys first (see
    /// ``destroyProviderKeys(expiringBefore:kind:)``); a provider failure throws before any row changes.
    /// One transaction per call: day keys and their (unheld) data keys are deleted, tombstones written,
    /// then the WAL is checkpointed with `TRUNCATE` so the deleted bytes are gone from the files.
    /// Held data keys are wrapped under the hold key and survive.
    /// - Parameter day: the first day that is kept; pass today (UTC) to shred everything that has expired.
    /// - Returns: what was destroyed, for the catalog and the audit log.
    @discardableResult
    public func destroyDayKeys(expiringBefore day: CalendarDay, kind: KeyKind? = nil) throws(KeyStoreError)
        -> [DestroyedKey]
    {
        let destroyedInProvider = try destroyProviderKeys(expiringBefore: day, kind: kind)
        let destroyed = try write { db throws(KeyStoreError) -> [DestroyedKey] in
            // A provider-wrapped day key made after the provider pass waits for the next sweep: its rows go
            // only once its provider key is destroyed.
            let pending = try self.providerWrappedDayKeyIDs(db, before: day, kind: kind)
            let doomed = try self.expiredDayKeys(db, before: day, kind: kind).filter {
                !pending.contains($0.keyID) || destroyedInProvider.contains($0.keyID)
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
        return destroyed
    }

    /// Destroys, in the key provider, the provider keys of the day keys before `day`: the step that
    /// shreds them. Only then are their rows deleted. A crash in between leaves rows whose provider key is
    /// gone; the next sweep destroys it again (`destroyKey` finds nothing: false) and deletes them.
    ///
    /// Fails closed: if the provider cannot destroy one of them (down, refusing), this throws
    /// `providerFailed` naming the provider, tenants and days, and no row is deleted or marked shredded.
    /// - Returns: the ids of the day keys whose provider keys are gone now.
    func destroyProviderKeys(expiringBefore day: CalendarDay, kind: KeyKind?) throws(KeyStoreError) -> Set<String> {
        let doomed = try read { db throws(KeyStoreError) -> [Row] in
            var sql = "SELECT key_id, tenant_id, day, kind, provider_key FROM day_key WHERE day < ? AND provider_key IS NOT NULL"
            var arguments: StatementArguments = [day.description]
            if let kind {
                sql += " AND kind = ?"
                arguments += [kind.rawValue]
            }
            return try self.fetchAll(db, sql + " ORDER BY day, tenant_id, kind", arguments)
        }
        guard !doomed.isEmpty else { return [] }
        guard let provider = dayKeyProvider else {
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
            do throws(KeyProviderError) {
                let existed = try provider.destroyKey(named: providerKey)
                destroyed.insert(keyID)
                if !existed {
                    logger.info("provider key already destroyed", metadata: ["providerKey": "\(providerKey)"])
                }
            } catch {
                let tenantID: String = row["tenant_id"]
                let dayText: String = row["day"]
                let kindText: String = row["kind"]
                failures.append("tenant \(tenantID) \(kindText) \(dayText): \(error.code.rawValue): \(error.message)")
            }
        }
        dayKeyCache.remove(destroyed)
        if !failures.isEmpty {
            throw KeyStoreError(
                .providerFailed,
                "the \(provider.kind.rawValue) key provider at \(provider.location) could not destroy "
                    + "\(failures.count) of \(doomed.count) expired day keys (\(failures.joined(separator: "; "))); "
                    + "nothing was marked shredded; run the sweep again when the provider answers"
            )
        }
        return destroyed
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
    /// A held key is refused (`onHold`): a legal hold outranks erasure until it is released.
    /// - Parameter reason: recorded in the key's tombstone (`erased` unless the sweeper says `expired`).
    /// - Returns: true if a key was destroyed now, false if it had already been shredded.
    @discardableResult
    public func destroyDataKey(
        ownerID: String, tenantID: String, reason: DataKeyStatus.ShredReason = .erased
    ) throws(KeyStoreError) -> Bool {
        let destroyed = try write { db throws(KeyStoreError) -> Bool in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                let error = try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
                if error.code == .dataKeyShredded { return false }
                throw error
            }
            let held: Int = row["held"]
            guard held == 0 else {
                throw KeyStoreError(
                    .onHold,
                    "the data key of owner \(ownerID) is under legal hold; release the hold before erasing it"
                )
            }
            try self.shred(db, ownerID: ownerID, tenantID: tenantID, keyID: row["key_id"], reason: reason)
            return true
        }
        if destroyed {
            try checkpointTruncate()
            logger.info("data key erased", metadata: ["tenant": "\(tenantID)", "owner": "\(ownerID)"])
        }
        return destroyed
    }

    /// Destroys many owners' data keys in one transaction and one WAL checkpoint: the sweeper's path
    /// for large batches of expired recordings (one transaction per key would cap it at disk-sync speed).
    ///
    /// Owners whose key is already shredded or never existed are skipped; held keys are left alone and
    /// returned in `held`, so the caller can report them.
    /// - Returns: how many keys were destroyed now, and the owners whose keys are under hold.
    @discardableResult
    public func destroyDataKeys(
        owners: [(ownerID: String, tenantID: String)], reason: DataKeyStatus.ShredReason
    ) throws(KeyStoreError) -> (destroyed: Int, held: [String]) {
        guard !owners.isEmpty else { return (0, []) }
        let result = try write { db throws(KeyStoreError) -> (destroyed: Int, held: [String]) in
            // Set-based: the owners go to a temporary table, then three statements do the work.
            try self.execute(db, "CREATE TEMP TABLE IF NOT EXISTS doomed_owner (owner_id TEXT PRIMARY KEY, tenant_id TEXT)")
            try self.execute(db, "DELETE FROM doomed_owner")
            do {
                let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO doomed_owner VALUES (?, ?)")
                for owner in owners { try insert.execute(arguments: [owner.ownerID, owner.tenantID]) }
            } catch {
                throw KeyStoreError(.databaseFailed, "key store \(self.path): \(error)")
            }
            let match = "FROM data_key d JOIN doomed_owner o ON d.owner_id = o.owner_id AND d.tenant_id = o.tenant_id"
            let held = try self.fetchAll(db, "SELECT d.owner_id \(match) WHERE d.held = 1").map { $0[0] as String }
            try self.execute(
                db,
                """
                INSERT INTO shredded_data_key (owner_id, tenant_id, key_id, reason, shredded_at)
                SELECT d.owner_id, d.tenant_id, d.key_id, ?, ? \(match) WHERE d.held = 0
                """,
                [reason.rawValue, Self.now()]
            )
            try self.execute(
                db,
                """
                DELETE FROM data_key WHERE held = 0
                AND owner_id IN (SELECT d.owner_id \(match))
                """
            )
            let destroyed = db.changesCount
            try self.execute(db, "DELETE FROM doomed_owner")
            return (destroyed, held)
        }
        if result.destroyed > 0 {
            try checkpointTruncate()
            logger.info("data keys destroyed", metadata: ["count": "\(result.destroyed)", "reason": "\(reason)"])
        }
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
