import CallVaultCrypto
import CallVaultKeyProviders
public import CallVaultModel
public import Foundation

/// Erasure that is backup-proof at once: the day keys under erased data keys are regenerated.
///
/// Deleting an erased recording's wrapped data key is not enough while its day key lives: a backup taken
/// yesterday still holds the wrapped data key, and the live day key opens it. So erasing data keys under
/// a provider-wrapped day key also replaces that day key:
///
/// 1. outside any transaction, a fresh provider key is created (`<old name>.<8 hex digits>`, a new name
///    each time so that two racing erasures never share one) and a fresh day key wrapped under it;
/// 2. one write transaction tombstones and deletes the erased data keys, re-wraps every other unheld
///    data key of that day under the fresh day key, swaps the day-key rows, and records the old provider
///    key in `retired_provider_key`;
/// 3. the provider destroys the old provider key, and its `retired_provider_key` row goes.
///
/// After step 3 every copy of the erased data keys, in any backup, is dead: the only key that opened them
/// is gone from the provider. A provider failure before step 2 changes nothing (fresh keys are discarded)
/// and throws; one in step 3 leaves the name in `retired_provider_key`, reported as pending, and
/// `callvault sweep` or the next erasure destroys it. A crash between 1 and 2 leaves an unused provider
/// key that wraps nothing any store holds.
extension KeyStore {
    /// A provider-wrapped day key that holds an erased data key, and the fresh day key replacing it.
    struct DayKeyGeneration {
        let keyID: String
        let tenantID: String
        let day: String
        let kind: String
        let providerKey: String
        /// nil when the old provider key is gone already (destroyed or revoked): nothing under it can be
        /// read by anyone, so nothing is re-wrapped and no fresh key is made.
        let oldKey: SecretKey?
        var fresh: (keyID: String, key: SecretKey, providerKey: String, wrapped: [UInt8])?
    }

    /// The name of a regenerated day key's provider key: the day's name, `.`, 8 random hex digits.
    static func regeneratedProviderKeyName(_ tenantID: String, _ kind: KeyKind, _ day: CalendarDay) -> String {
        providerKeyName(tenantID: tenantID, kind: kind, day: day) + "."
            + KeyStoreIdentifier.random().prefix(8)
    }

    /// Destroys the owners' data keys on request and regenerates the provider-wrapped day keys above them.
    func eraseRegeneratingDayKeys(_ owners: [(ownerID: String, tenantID: String)], _ provider: any KeyProvider)
        throws(KeyStoreError) -> DataKeyDestruction
    {
        for _ in 0..<3 {
            let (generations, localDayKeys) = try read { db throws(KeyStoreError) in
                try self.dayKeysAbove(db, owners)
            }
            var prepared: [DayKeyGeneration] = []
            do throws(KeyStoreError) {
                for generation in generations { prepared.append(try prepareGeneration(generation, provider)) }
            } catch {
                discardFresh(prepared, provider)
                throw error
            }
            let outcome: DataKeyDestruction?
            do throws(KeyStoreError) {
                outcome = try write { db throws(KeyStoreError) -> DataKeyDestruction? in
                    for generation in prepared {
                        // Regenerated or destroyed meanwhile: start again from what is there now.
                        if try db.dayKey(keyID: generation.keyID) == nil {
                            return nil
                        }
                    }
                    var result = try self.shredOwners(db, owners, .erased)
                    for generation in prepared {
                        result.dataKeysRewrapped += try self.replaceDayKey(db, generation)
                        if generation.fresh != nil { result.dayKeysRegenerated += 1 }
                    }
                    result.localDayKeys = localDayKeys
                    return result
                }
            } catch {
                discardFresh(prepared, provider)
                throw error
            }
            guard var result = outcome else {
                discardFresh(prepared, provider)
                continue
            }
            dayKeyCache.remove(prepared.map(\.keyID))
            for generation in prepared {
                if let fresh = generation.fresh { dayKeyCache.insert(fresh.key, for: fresh.keyID) }
            }
            try checkpointTruncate()
            result.providerKeysPending = destroyRetiredProviderKeys().pending
            logger.info(
                "data keys erased",
                metadata: [
                    "count": "\(result.destroyed)", "dayKeysRegenerated": "\(result.dayKeysRegenerated)",
                    "dataKeysRewrapped": "\(result.dataKeysRewrapped)",
                    "providerKeysPending": "\(result.providerKeysPending.count)",
                ])
            return result
        }
        throw KeyStoreError(
            .databaseFailed, "the day keys of the erased data keys kept changing while they were regenerated; try again")
    }

    /// The day keys above the owners' unheld data keys: provider-wrapped ones to regenerate, and how many
    /// are wrapped locally (which erasure cannot make backup-proof).
    func dayKeysAbove(_ db: any KeyRecordTransaction, _ owners: [(ownerID: String, tenantID: String)])
        throws(KeyStoreError) -> ([DayKeyGeneration], Int)
    {
        var seen = Set<String>()
        var generations: [DayKeyGeneration] = []
        var local = 0
        for owner in owners {
            guard let data = try db.dataKey(ownerID: owner.ownerID, tenantID: owner.tenantID), !data.held,
                let row = try db.dayKey(keyID: data.wrappingKeyID),
                seen.insert(row.keyID).inserted
            else { continue }
            guard let providerKey = row.providerKey else {
                local += 1
                continue
            }
            let keyID = row.keyID
            let tenantID = row.tenantID
            let day = row.day
            let kind = row.kind
            let oldKey: SecretKey?
            do throws(KeyStoreError) {
                oldKey = try providerDayKey(
                    keyID: keyID, tenantID: tenantID, day: day, kind: kind, providerKey: providerKey,
                    wrapped: row.wrapped)
            } catch where error.code == .dataKeyShredded {
                oldKey = nil
            }
            generations.append(
                DayKeyGeneration(
                    keyID: keyID, tenantID: tenantID, day: day, kind: kind, providerKey: providerKey, oldKey: oldKey))
        }
        return (generations, local)
    }

    /// Creates the fresh provider key and day key of one generation (provider round trips, no transaction).
    func prepareGeneration(_ generation: DayKeyGeneration, _ provider: any KeyProvider) throws(KeyStoreError)
        -> DayKeyGeneration
    {
        guard generation.oldKey != nil else { return generation }
        guard let kind = KeyKind(rawValue: generation.kind), let day = try? CalendarDay(generation.day) else {
            throw KeyStoreError(.databaseFailed, "day key \(generation.keyID) has kind '\(generation.kind)' or day '\(generation.day)' this build does not know")
        }
        let doing = "\(generation.kind) day key of tenant \(generation.tenantID) for \(generation.day)"
        let name = Self.regeneratedProviderKeyName(generation.tenantID, kind, day)
        do throws(KeyProviderError) {
            try provider.createKey(named: name)
        } catch {
            throw providerError(error, provider, "cannot regenerate the \(doing) for an erasure (nothing was erased)")
        }
        let keyID = KeyStoreIdentifier.random()
        let key = try Self.randomKey()
        do throws(KeyProviderError) {
            let wrapped = try provider.wrap(
                key, under: name, context: Self.dayContext(generation.tenantID, keyID, generation.day, generation.kind))
            var result = generation
            result.fresh = (keyID, key, name, wrapped)
            return result
        } catch {
            _ = try? provider.destroyKey(named: name)
            throw providerError(error, provider, "cannot wrap the regenerated \(doing) for an erasure (nothing was erased)")
        }
    }

    /// Destroys the fresh provider keys of generations that were not committed.
    func discardFresh(_ generations: [DayKeyGeneration], _ provider: any KeyProvider) {
        for generation in generations {
            guard let fresh = generation.fresh else { continue }
            do throws(KeyProviderError) {
                try provider.destroyKey(named: fresh.providerKey)
            } catch {
                logger.warning(
                    "an unused regenerated provider key could not be destroyed; it wraps nothing any store holds",
                    metadata: ["providerKey": "\(fresh.providerKey)", "error": "\(error.code.rawValue)"])
            }
        }
    }

    /// Inside the erasure's transaction: re-wraps the day's remaining unheld data keys under the fresh day
    /// key, swaps the day-key rows and retires the old provider key. Returns how many keys were re-wrapped.
    func replaceDayKey(_ db: any KeyRecordTransaction, _ generation: DayKeyGeneration) throws(KeyStoreError) -> Int {
        var rewrapped = 0
        if let oldKey = generation.oldKey, let fresh = generation.fresh {
            for row in try db.dataKeys(wrappedBy: generation.keyID, held: false) {
                let context = Self.dataContext(generation.tenantID, row.keyID, generation.kind, row.ownerID)
                let key = try Self.unwrap(row.wrapped, under: oldKey, context, what: "data key")
                let wrapped = try Self.wrap(key, under: fresh.key, context)
                try db.rewrapDataKey(ownerID: row.ownerID, wrappingKeyID: fresh.keyID, wrapped: wrapped, held: false, expiresOn: nil)
                rewrapped += 1
            }
        }
        try db.deleteDayKey(keyID: generation.keyID)
        if let fresh = generation.fresh {
            try db.insertDayKey(
                DayKeyRecord(
                    keyID: fresh.keyID, tenantID: generation.tenantID, day: generation.day, kind: generation.kind,
                    wrapped: fresh.wrapped, providerKey: fresh.providerKey, createdAt: Self.now()))
        }
        try db.retireProviderKey(
            generation.providerKey, tenantID: generation.tenantID, day: generation.day, kind: generation.kind,
            at: Self.now())
        return rewrapped
    }

    /// Destroys, in the provider, the provider keys of day keys replaced by erasure or rotation; each one
    /// destroyed (or found gone) loses its `retired_provider_key` row. Each goes to its tenant's provider.
    /// Failures are logged and returned as pending.
    @discardableResult
    func destroyRetiredProviderKeys() -> (destroyed: Int, pending: [String]) {
        let rows: [(name: String, tenantID: String)]
        do {
            rows = try read { db throws(KeyStoreError) in
                try db.retiredProviderKeys().map { (name: $0.providerKey, tenantID: $0.tenantID) }
            }
        } catch {
            logger.warning("cannot list retired provider keys", metadata: ["error": "\(error.message)"])
            return (0, ["(unknown: \(error.code.rawValue))"])
        }
        var destroyed = 0
        var pending: [String] = []
        for (name, tenantID) in rows {
            do {
                guard let provider = try provider(for: tenantID) else {
                    throw KeyStoreError(.providerFailed, "this key store was opened without tenant \(tenantID)'s key provider")
                }
                try provider.destroyKey(named: name)
                try write { db throws(KeyStoreError) in try db.forgetRetiredProviderKey(name) }
                destroyed += 1
            } catch {
                logger.warning(
                    "a replaced day key's provider key could not be destroyed yet; sweep retries it",
                    metadata: ["providerKey": "\(name)", "tenant": "\(tenantID)"])
                pending.append(name)
            }
        }
        return (destroyed, pending)
    }

    /// Destroys the provider keys of day keys that erasures or rotations replaced and could not destroy
    /// at the time (the provider was down). `callvault sweep` runs this first.
    /// - Returns: how many were destroyed now, and the names still pending (the provider failed again).
    public func finishRetiredProviderKeys() throws(KeyStoreError) -> (destroyed: Int, pending: [String]) {
        destroyRetiredProviderKeys()
    }
}

/// Rotation (`callvault keys rotate --tenant ID`): every provider-wrapped day key of a tenant replaced
/// by a fresh generation, as an erasure does for one day, without erasing anything.
extension KeyStore {
    /// What a rotation did.
    public struct DayKeyRotation: Sendable, Equatable {
        /// Day keys replaced by fresh ones under fresh provider keys.
        public var dayKeysRotated = 0
        /// Data keys re-wrapped under the fresh day keys.
        public var dataKeysRewrapped = 0
        /// Old provider keys the provider has not destroyed yet (`callvault sweep` retries them).
        public var providerKeysPending: [String] = []
        /// Day keys of the tenant still wrapped by its tenant key (not rotated: move them with `keys migrate`).
        public var localDayKeys = 0
        /// Whether the tenant's hold key was replaced too (it has one).
        public var holdKeyRotated = false
    }

    /// Replaces each of the tenant's provider-wrapped day keys made before `before` with a fresh day key
    /// under a fresh provider key, re-wrapping its data keys, then destroys the old provider keys.
    ///
    /// One transaction per day key, so a killed rotation leaves every day key either old or new (both
    /// open their data); running it again with a later `before` finishes it. A provider failure stops
    /// the pass with `providerFailed`; what was rotated stays rotated.
    public func rotateDayKeys(tenantID: String, before: Date = Date()) throws(KeyStoreError) -> DayKeyRotation {
        guard let provider = try provider(for: tenantID) else {
            throw KeyStoreError(
                .providerFailed,
                "tenant \(tenantID)'s day keys are not in a key provider; move the data directory with "
                    + "`callvault keys migrate --to pkcs11|transit` first")
        }
        guard try hasTenant(tenantID) else {
            throw KeyStoreError(.unknownTenant, "tenant \(tenantID) has no key (create the tenant first)")
        }
        var result = DayKeyRotation()
        let cutoff = Int64(before.timeIntervalSince1970.rounded(.up))
        let (local, rows) = try read { db throws(KeyStoreError) in
            (
                try db.countDayKeys(DayKeyFilter(tenantID: tenantID, providerWrapped: false)),
                try db.dayKeys(DayKeyFilter(tenantID: tenantID, providerWrapped: true, createdAtOrBefore: cutoff))
            )
        }
        result.localDayKeys = local
        for row in rows {
            let keyID = row.keyID
            let day = row.day
            let kind = row.kind
            let providerKey = row.providerKey ?? ""
            let oldKey: SecretKey
            do throws(KeyStoreError) {
                oldKey = try providerDayKey(
                    keyID: keyID, tenantID: tenantID, day: day, kind: kind, providerKey: providerKey,
                    wrapped: row.wrapped)
            } catch where error.code == .dataKeyShredded {
                continue  // its provider key is gone: nothing under it can be read, nothing to rotate
            }
            let generation = try prepareGeneration(
                DayKeyGeneration(
                    keyID: keyID, tenantID: tenantID, day: day, kind: kind, providerKey: providerKey, oldKey: oldKey),
                provider)
            let rewrapped: Int?
            do throws(KeyStoreError) {
                rewrapped = try write { db throws(KeyStoreError) -> Int? in
                    // Swept or regenerated by an erasure meanwhile: nothing to rotate here any more.
                    guard try db.dayKey(keyID: keyID) != nil else { return nil }
                    return try self.replaceDayKey(db, generation)
                }
            } catch {
                discardFresh([generation], provider)
                throw error
            }
            guard let rewrapped else {
                discardFresh([generation], provider)
                continue
            }
            dayKeyCache.remove([keyID])
            if let fresh = generation.fresh { dayKeyCache.insert(fresh.key, for: fresh.keyID) }
            result.dayKeysRotated += 1
            result.dataKeysRewrapped += rewrapped
        }
        // The hold key too: a fresh one under a fresh provider key, the held data keys re-wrapped.
        result.holdKeyRotated = try regenerateHoldKey(provider, tenantID)
        if result.dayKeysRotated > 0 || result.holdKeyRotated { try checkpointTruncate() }
        result.providerKeysPending = destroyRetiredProviderKeys().pending
        logger.info(
            "day keys rotated",
            metadata: [
                "tenant": "\(tenantID)", "dayKeys": "\(result.dayKeysRotated)",
                "dataKeysRewrapped": "\(result.dataKeysRewrapped)",
                "providerKeysPending": "\(result.providerKeysPending.count)",
            ])
        return result
    }
}
