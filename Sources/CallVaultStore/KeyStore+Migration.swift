import CallVaultCrypto
public import CallVaultKeyProviders
public import CallVaultModel
import Foundation

/// Moving a `local` data directory's day keys under provider keys (`callvault keys migrate --to`).
///
/// Each day key wrapped by its tenant key is wrapped again by the provider key of its (tenant, kind,
/// day), `cv.<tenant>.<kind>.<day>`, and its row updated in place: same key id, so the data keys under
/// it and every sealed file stay as they are. One row per transaction, so a killed migration resumes
/// where it stopped (a provider key made by a killed run is found with `keyExists` and used).
extension KeyStore {
    /// What a migration pass did.
    public struct DayKeyMigration: Sendable, Equatable {
        /// Day keys moved under provider keys now.
        public var migrated = 0
        /// Day keys that were under provider keys already.
        public var alreadyInProvider = 0
        /// Hold keys moved under provider keys now (as fresh hold keys; the held data keys re-wrapped).
        public var holdKeysMigrated = 0
    }

    /// How many live day keys the tenant has (any wrapping): a tenant's provider may change only at zero.
    public func dayKeyCount(tenantID: String) throws(KeyStoreError) -> Int {
        try read { db throws(KeyStoreError) in try db.countDayKeys(DayKeyFilter(tenantID: tenantID)) }
    }

    /// How many day keys are still wrapped by their tenant key (not by a provider).
    public func localDayKeyCount() throws(KeyStoreError) -> Int {
        try read { db throws(KeyStoreError) in try db.countDayKeys(DayKeyFilter(providerWrapped: false)) }
    }

    /// Wraps every tenant-wrapped day key under a provider key of `provider`, one row per transaction.
    ///
    /// A provider failure stops the pass with `providerFailed` naming the tenant and day; the rows done
    /// so far stay done, and running it again goes on from there. The old tenant-wrapped bytes are
    /// overwritten in place and the WAL truncated, so the key store file no longer holds them (a backup
    /// taken before the migration still does: those day keys are protected by the provider only from
    /// the migration on, and fully once they expire).
    public func migrateLocalDayKeys(to provider: any KeyProvider) throws(KeyStoreError) -> DayKeyMigration {
        var result = DayKeyMigration()
        result.alreadyInProvider = try read { db throws(KeyStoreError) in
            try db.countDayKeys(DayKeyFilter(providerWrapped: true))
        }
        let rows = try read { db throws(KeyStoreError) in try db.dayKeys(DayKeyFilter(providerWrapped: false)) }
        for row in rows {
            let keyID = row.keyID
            let tenantID = row.tenantID
            let dayText = row.day
            let kindText = row.kind
            guard let kind = KeyKind(rawValue: kindText), let day = try? CalendarDay(dayText) else {
                throw KeyStoreError(.databaseFailed, "day key \(keyID) has kind '\(kindText)' or day '\(dayText)' this build does not know")
            }
            let doing = "\(kindText) day key of tenant \(tenantID) for \(dayText)"
            // The day key, unwrapped under its tenant key; nil when it went meanwhile (swept, or migrated).
            guard
                let key = try read({ db throws(KeyStoreError) -> SecretKey? in
                    guard let current = try db.dayKey(keyID: keyID), current.providerKey == nil else { return nil }
                    return try Self.unwrap(
                        current.wrapped, under: try self.tenantKey(db, tenantID),
                        Self.dayContext(tenantID, keyID, dayText, kindText), what: "day key")
                })
            else { continue }
            let name = Self.providerKeyName(tenantID: tenantID, kind: kind, day: day)
            var created = false
            do throws(KeyProviderError) {
                try provider.createKey(named: name)
                created = true
            } catch {
                // A run killed after creating it: the key wraps nothing yet, so this run uses it.
                if error.code != .keyExists { throw providerError(error, provider, "cannot migrate the \(doing)") }
            }
            let wrapped: [UInt8]
            do throws(KeyProviderError) {
                wrapped = try provider.wrap(key, under: name, context: Self.dayContext(tenantID, keyID, dayText, kindText))
            } catch {
                throw providerError(error, provider, "cannot migrate the \(doing)")
            }
            let updated = try write { db throws(KeyStoreError) -> Bool in
                try db.moveDayKeyToProvider(keyID: keyID, wrapped: wrapped, providerKey: name)
            }
            if updated {
                dayKeyCache.insert(key, for: keyID)
                result.migrated += 1
            } else if created {
                // Swept meanwhile: the provider key must not outlive the day key it was made for.
                _ = try? provider.destroyKey(named: name)
            }
        }
        // Hold keys under tenant keys move into the provider as a fresh generation (held keys re-wrapped).
        let localHolds = try read { db throws(KeyStoreError) in try db.tenantsWithLocalHoldKeys() }
        for tenantID in localHolds where !keyProviders.hasOwnProvider(tenantID) {
            if try regenerateHoldKey(provider, tenantID) { result.holdKeysMigrated += 1 }
        }
        if result.migrated > 0 || result.holdKeysMigrated > 0 { try checkpointTruncate() }
        logger.info(
            "day keys migrated to the key provider",
            metadata: ["migrated": "\(result.migrated)", "provider": "\(provider.kind.rawValue)"])
        return result
    }
}
