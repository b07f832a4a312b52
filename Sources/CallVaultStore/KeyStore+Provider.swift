import CallVaultCrypto
import CallVaultKeyProviders
public import CallVaultModel
import Foundation
internal import GRDB

/// Day keys wrapped by a key provider: their names, their creation outside write transactions, their
/// unwrapping through the ``DayKeyCache``, and provider errors as key-store errors.
extension KeyStore {
    /// The provider key that wraps the (tenant, kind, expiry day) day key: `cv.<tenant>.<kind>.<day>`.
    ///
    /// Provider names allow letters, digits, `-`, `_` and `.`, at most 64 bytes (PKCS#11 labels).
    /// `<tenant>` is the tenant id itself when it is 1–36 letters, digits and `-` (a UUID fits), so an
    /// operator can read it in the HSM; any other tenant id (longer, or with `_ . :`) becomes `_` followed
    /// by the first 32 hex digits of the SHA-256 of its UTF-8 bytes. A raw id never contains `_`, so the
    /// two forms cannot collide. The longest name is `cv.` + 36 + `.transcript.` + 10 = 61 bytes.
    public static func providerKeyName(tenantID: String, kind: KeyKind, day: CalendarDay) -> String {
        let bytes = tenantID.utf8
        let readable =
            !bytes.isEmpty && bytes.count <= 36
            && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D }
        let tenant = readable ? tenantID : "_" + String(Digest.sha256Hex(bytes).prefix(32))
        return "cv.\(tenant).\(kind.rawValue).\(day.description)"
    }

    /// A provider failure as a key-store error naming the provider, what was being done and the tenant
    /// and day; the provider's message names its location and key, never a PIN, a token or key bytes.
    func providerError(_ error: KeyProviderError, _ provider: any KeyProvider, _ doing: String) -> KeyStoreError {
        if error.code == .keyNotFound {
            return KeyStoreError(
                .dataKeyShredded,
                "\(doing): the provider key is gone from the \(provider.kind.rawValue) key provider "
                    + "(\(error.message)); it was destroyed or revoked, so the data under it cannot be read by anyone"
            )
        }
        return KeyStoreError(
            .providerFailed,
            "\(doing): the \(provider.kind.rawValue) key provider at \(provider.location) failed "
                + "(\(error.code.rawValue): \(error.message)); nothing was changed"
        )
    }

    /// The day key (tenant, day, kind), wrapped by the provider and committed, created on first use;
    /// nil when the day key exists wrapped by the tenant key (made before the provider was configured),
    /// which the caller then uses as before.
    ///
    /// Provider round trips (create the provider key, wrap, unwrap) happen before the short write
    /// transaction that inserts the row. Two writers racing for the same new day key both wrap one;
    /// the IMMEDIATE transaction lets one insert it, and the other unwraps the winner's.
    func ensureProviderDayKey(_ provider: any KeyProvider, _ tenantID: String, _ day: CalendarDay, _ kind: KeyKind)
        throws(KeyStoreError) -> (keyID: String, key: SecretKey)?
    {
        let dayText = day.description
        let doing = "\(kind.rawValue) day key of tenant \(tenantID) for \(dayText)"
        for _ in 0..<3 {
            let existing = try read { db throws(KeyStoreError) -> Row? in
                guard try self.fetchOne(db, "SELECT 1 FROM tenant_key WHERE tenant_id = ?", [tenantID]) != nil else {
                    throw KeyStoreError(.unknownTenant, "tenant \(tenantID) has no key (create the tenant first)")
                }
                if let row = try self.fetchOne(
                    db,
                    "SELECT key_id, wrapped, provider_key FROM day_key WHERE tenant_id = ? AND day = ? AND kind = ?",
                    [tenantID, dayText, kind.rawValue]
                ) {
                    return row
                }
                try self.checkDayNotDestroyed(db, tenantID, dayText, kind)
                return nil
            }
            if let row = existing {
                let keyID: String = row["key_id"]
                let providerKeyColumn: String? = row["provider_key"]
                guard let providerKey = providerKeyColumn else { return nil }
                let key = try providerDayKey(
                    keyID: keyID, tenantID: tenantID, day: dayText, kind: kind.rawValue, providerKey: providerKey,
                    wrapped: Self.bytes(row, "wrapped"))
                return (keyID, key)
            }

            let name = Self.providerKeyName(tenantID: tenantID, kind: kind, day: day)
            var created = false
            do throws(KeyProviderError) {
                try provider.createKey(named: name)
                created = true
            } catch {
                // `keyExists`: another writer (or a crashed attempt) made it for the same (tenant, kind, day).
                if error.code != .keyExists { throw providerError(error, provider, "cannot create the \(doing)") }
            }
            let keyID = KeyStoreIdentifier.random()
            let key = try Self.randomKey()
            let wrapped: [UInt8]
            do throws(KeyProviderError) {
                wrapped = try provider.wrap(key, under: name, context: Self.dayContext(tenantID, keyID, dayText, kind.rawValue))
            } catch {
                throw providerError(error, provider, "cannot wrap the \(doing)")
            }
            let inserted: Bool
            do throws(KeyStoreError) {
                inserted = try write { db throws(KeyStoreError) -> Bool in
                    if try self.fetchOne(
                        db, "SELECT 1 FROM day_key WHERE tenant_id = ? AND day = ? AND kind = ?",
                        [tenantID, dayText, kind.rawValue]) != nil
                    {
                        return false
                    }
                    try self.checkDayNotDestroyed(db, tenantID, dayText, kind)
                    try self.execute(
                        db,
                        """
                        INSERT INTO day_key (key_id, tenant_id, day, kind, wrapped, created_at, provider_key)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                        [keyID, tenantID, dayText, kind.rawValue, Data(wrapped), Self.now(), name]
                    )
                    return true
                }
            } catch {
                // The day was shredded meanwhile: the provider key made for it must not outlive it.
                if created, error.code == .dayKeyDestroyed { _ = try? provider.destroyKey(named: name) }
                throw error
            }
            if inserted {
                dayKeyCache.insert(key, for: keyID)
                logger.debug(
                    "day key created",
                    metadata: [
                        "tenant": "\(tenantID)", "day": "\(dayText)", "kind": "\(kind.rawValue)", "key": "\(keyID)",
                        "providerKey": "\(name)",
                    ]
                )
                return (keyID, key)
            }
            // Lost the race: the next round unwraps the winner's day key.
        }
        throw KeyStoreError(.databaseFailed, "the \(doing) kept changing while it was being created; try again")
    }

    /// A provider-wrapped day key: from the cache, else unwrapped by the provider (and cached).
    func providerDayKey(
        keyID: String, tenantID: String, day: String, kind: String, providerKey: String, wrapped: [UInt8]
    ) throws(KeyStoreError) -> SecretKey {
        if let key = dayKeyCache.key(keyID) { return key }
        guard let provider = dayKeyProvider else {
            throw KeyStoreError(
                .providerFailed,
                "the \(kind) day key of tenant \(tenantID) for \(day) is wrapped by the provider key \(providerKey), "
                    + "but this key store was opened without a key provider"
            )
        }
        let key: SecretKey
        do throws(KeyProviderError) {
            key = try provider.unwrap(wrapped, under: providerKey, context: Self.dayContext(tenantID, keyID, day, kind))
        } catch {
            throw providerError(error, provider, "cannot unwrap the \(kind) day key of tenant \(tenantID) for \(day)")
        }
        dayKeyCache.insert(key, for: keyID)
        return key
    }

    /// Throws `dayKeyDestroyed` if the (tenant, day, kind) day key was shredded already.
    func checkDayNotDestroyed(_ db: Database, _ tenantID: String, _ dayText: String, _ kind: KeyKind) throws(KeyStoreError) {
        if try fetchOne(
            db,
            "SELECT 1 FROM destroyed_day_key WHERE tenant_id = ? AND day = ? AND kind = ?",
            [tenantID, dayText, kind.rawValue]
        ) != nil {
            throw KeyStoreError(
                .dayKeyDestroyed,
                "the \(kind.rawValue) day key of tenant \(tenantID) for \(dayText) was already shredded; "
                    + "choose a later expiry day"
            )
        }
    }
}
