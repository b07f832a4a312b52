import CallVaultCrypto
import CallVaultKeyProviders
public import CallVaultModel

/// Day keys made ready ahead, so that a data key can be created where no provider round trip may be
/// made: on an ingest event loop, a recording's data key comes only from a day key already unwrapped in
/// memory (``DayKeyPreparer`` fetches them off the loops), and otherwise fails `dayKeyNotReady` at once.
extension KeyStore {
    /// Whether creating a data key may call the key provider (create, wrap or unwrap a day key).
    public enum ProviderRoundTrip: Sendable, Equatable {
        /// It may (recovery, transcription, the sweeper, the CLI: never on an event loop).
        case allowed
        /// It may not: the day key must be unwrapped in memory already, or the call fails
        /// `dayKeyNotReady` without touching the provider (an ingest event loop).
        case forbidden
    }

    /// How a day key stands after ``prepareDayKey(tenantID:kind:expiresOn:refreshingWithin:)``.
    public enum DayKeyPreparation: Sendable, Equatable {
        /// No provider wraps it (`local`, or a day key made under the tenant key before the provider was
        /// configured): a data key never needs a provider round trip for it.
        case local
        /// Unwrapped in memory until the given instant (it was there already, or fetched now).
        case cached(until: ContinuousClock.Instant)
    }

    /// Where the tenant's day keys are wrapped, for messages, without opening a provider:
    /// `the transit key provider at URL, mount M`, `its own key provider (not opened yet)`, or nil when
    /// its day keys stay under its tenant key. Never a PIN or a token.
    public func dayKeyProviderDescription(tenantID: String) -> String? {
        if let provider = keyProviders.providerIfOpen(for: tenantID) {
            return "the \(provider.kind.rawValue) key provider at \(provider.location)"
        }
        return keyProviders.hasOwnProvider(tenantID) ? "its own key provider (not opened yet)" : nil
    }

    /// The kind of the tenant's day-key provider as a word for short messages (`transit`, `pkcs11`, or
    /// `own` for a tenant's own provider not opened yet), without opening one; nil without a provider.
    public func dayKeyProviderKind(tenantID: String) -> String? {
        if let provider = keyProviders.providerIfOpen(for: tenantID) { return provider.kind.rawValue }
        return keyProviders.hasOwnProvider(tenantID) ? "own" : nil
    }

    /// Whether any day key of this store may be wrapped by a provider (the directory's, or a tenant's own).
    public var hasDayKeyProviders: Bool {
        keyProviders.defaultProvider != nil || keyProviders.hasAnyOwnProvider
    }

    /// How long an unwrapped provider-wrapped day key stays in memory.
    public var dayKeyCacheTimeToLive: Duration { dayKeyCache.timeToLive }

    /// Whether a data key for (tenant, kind, expiry day) can be created now without a provider round trip.
    ///
    /// Reads the key store (a short SQLite read) and the in-memory cache; never calls the provider.
    public func dayKeyReady(tenantID: String, kind: KeyKind, expiresOn: CalendarDay) throws(KeyStoreError) -> Bool {
        do {
            _ = try readyDayKey(tenantID, expiresOn, kind)
            return true
        } catch where error.code == .dayKeyNotReady {
            return false
        }
    }

    /// Makes the (tenant, kind, expiry day) day key ready for data keys made without a provider round
    /// trip: creates it in the provider if it is new, unwraps it if it is not in memory, and unwraps it
    /// again when its cache entry ends within `margin` (so the cache never runs out under a busy tenant,
    /// and a key revoked in the provider still stops working within the cache's time to live).
    ///
    /// Blocks on the provider: call it off the event loops. A provider that fails throws `providerFailed`
    /// (a day key still cached stays usable until its entry ends); a key destroyed or revoked in the
    /// provider throws `dataKeyShredded` and drops the day key from memory at once.
    @discardableResult
    public func prepareDayKey(
        tenantID: String, kind: KeyKind, expiresOn: CalendarDay, refreshingWithin margin: Duration = .zero
    ) throws(KeyStoreError) -> DayKeyPreparation {
        try KeyStoreIdentifier.validate(tenantID, what: "tenant id")
        guard let provider = try provider(for: tenantID) else { return .local }
        guard let ready = try ensureProviderDayKey(provider, tenantID, expiresOn, kind) else { return .local }
        let now = ContinuousClock.now
        if let until = dayKeyCache.expiry(ready.keyID, now: now), until - now > margin {
            return .cached(until: until)
        }
        // Near the end of its entry (or just evicted): unwrap it again through the provider.
        let row = try read { db throws(KeyStoreError) -> DayKeyRecord? in
            try db.dayKey(keyID: ready.keyID).flatMap { $0.tenantID == tenantID ? $0 : nil }
        }
        guard let row, let providerKey = row.providerKey else {
            throw KeyStoreError(
                .dayKeyNotReady,
                "the \(kind.rawValue) day key of tenant \(tenantID) for \(expiresOn) changed while it was being "
                    + "prepared; try again")
        }
        let day = row.day
        let kindText = row.kind
        let key: SecretKey
        do throws(KeyProviderError) {
            key = try provider.unwrap(
                row.wrapped, under: providerKey,
                context: Self.dayContext(tenantID, ready.keyID, day, kindText))
        } catch {
            if error.code == .keyNotFound { dayKeyCache.remove([ready.keyID]) }
            throw providerError(error, provider, "cannot unwrap the \(kindText) day key of tenant \(tenantID) for \(day)")
        }
        dayKeyCache.insert(key, for: ready.keyID)
        return .cached(until: dayKeyCache.expiry(ready.keyID) ?? .now)
    }

    /// The day key a data key may use without a provider round trip: a provider-wrapped one from the
    /// cache, nil when the day key needs no provider (none configured, or wrapped by the tenant key).
    /// Throws `dayKeyNotReady` (naming tenant, day and provider) when it would need the provider.
    func readyDayKey(_ tenantID: String, _ day: CalendarDay, _ kind: KeyKind) throws(KeyStoreError) -> (
        keyID: String, key: SecretKey
    )? {
        // A tenant without a provider: its day key is made or unwrapped under its tenant key, in memory.
        guard keyProviders.hasProvider(for: tenantID) else { return nil }
        let dayText = day.description
        let row = try read { db throws(KeyStoreError) -> DayKeyRecord? in
            guard try db.tenantKey(tenantID) != nil else {
                throw KeyStoreError(.unknownTenant, "tenant \(tenantID) has no key (create the tenant first)")
            }
            if let row = try db.dayKey(tenantID: tenantID, day: dayText, kind: kind.rawValue) {
                return row
            }
            try self.checkDayNotDestroyed(db, tenantID, dayText, kind)
            return nil
        }
        if let row {
            let keyID = row.keyID
            guard row.providerKey != nil else { return nil }
            if let key = dayKeyCache.key(keyID) { return (keyID, key) }
        }
        throw KeyStoreError(
            .dayKeyNotReady,
            "the \(kind.rawValue) day key of tenant \(tenantID) for \(dayText) is not ready in memory: it needs a "
                + "round trip to \(dayKeyProviderDescription(tenantID: tenantID) ?? "its key provider"), which is not "
                + "made on an ingest event loop (it is being fetched off the loops; retry in a moment)")
    }

    /// Whether `keyID` is still the (tenant, day, kind) day key, inside the data key's write transaction
    /// (an erasure may have replaced it, or the sweeper destroyed it, since it was read).
    func isCurrentDayKey(
        _ db: any KeyRecordTransaction, _ keyID: String, _ tenantID: String, _ day: CalendarDay, _ kind: KeyKind
    ) throws(KeyStoreError) -> Bool {
        try db.dayKey(tenantID: tenantID, day: day.description, kind: kind.rawValue)?.keyID == keyID
    }
}
