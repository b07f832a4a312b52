public import CallVaultCrypto
public import CallVaultModel

extension KeyStore {
    /// Creates the data key (DEK) of one recording or transcript, wrapped under the day key of its expiry day.
    ///
    /// The day key is created on first use (with a key provider: wrapped by the provider, before the
    /// transaction; a provider that fails leaves nothing written). One transaction: the DEK is returned only if its wrapped form
    /// is committed, so no data is ever sealed under a key the store does not have.
    /// - Parameters:
    ///   - ownerID: the recording or transcript id; it is bound into the wrap, and each owner gets one key.
    ///   - expiresOn: the UTC day after which the data must be unreadable.
    ///   - providerRoundTrip: `.forbidden` on an event loop: the day key must be ready in memory
    ///     (see ``prepareDayKey(tenantID:kind:expiresOn:refreshingWithin:)``), else `dayKeyNotReady` is
    ///     thrown at once, nothing written and the provider never called.
    /// - Returns: the new key's id (for the `.cvr` header) and the key.
    public func newDataKey(
        tenantID: String, ownerID: String, kind: KeyKind, expiresOn: CalendarDay,
        providerRoundTrip: ProviderRoundTrip = .allowed
    )
        throws(KeyStoreError) -> (keyID: String, key: SecretKey)
    {
        try KeyStoreIdentifier.validate(tenantID, what: "tenant id")
        try KeyStoreIdentifier.validate(ownerID, what: "owner id")
        var ready: (keyID: String, key: SecretKey)?
        switch providerRoundTrip {
        case .allowed:
            if let provider = try provider(for: tenantID) {
                // The provider round trips (first use of the day) happen here, outside the write transaction;
                // inside it the day key comes from the cache.
                _ = try ensureProviderDayKey(provider, tenantID, expiresOn, kind)
            }
        case .forbidden:
            // From memory only (no provider is opened or called); the transaction below checks it is
            // still the day's key.
            ready = try readyDayKey(tenantID, expiresOn, kind)
        }
        // With the day key ready in memory the transaction only adds the data key (a shared lock on
        // PostgreSQL: recordings on every node side by side); otherwise it may make the day key (exclusive).
        let body = { (db: any KeyRecordTransaction) throws(KeyStoreError) -> (keyID: String, key: SecretKey) in
            if try db.ownerHasOrHadDataKey(ownerID) {
                throw KeyStoreError(.dataKeyExists, "owner \(ownerID) already has (or had) a data key; use a new id")
            }
            let day: (keyID: String, key: SecretKey)
            if let ready {
                guard try self.isCurrentDayKey(db, ready.keyID, tenantID, expiresOn, kind) else {
                    throw KeyStoreError(
                        .dayKeyNotReady,
                        "the \(kind.rawValue) day key of tenant \(tenantID) for \(expiresOn) changed since it was "
                            + "prepared (erased or shredded); it is being fetched again, retry in a moment")
                }
                day = ready
            } else {
                day = try self.dayKey(db, tenantID, expiresOn, kind)
            }
            let keyID = KeyStoreIdentifier.random()
            let key = try Self.randomKey()
            let wrapped = try Self.wrap(key, under: day.key, Self.dataContext(tenantID, keyID, kind.rawValue, ownerID))
            try db.insertDataKey(
                DataKeyRecord(
                    ownerID: ownerID, tenantID: tenantID, keyID: keyID, kind: kind.rawValue,
                    expiresOn: expiresOn.description, held: false, wrappingKeyID: day.keyID, wrapped: wrapped,
                    createdAt: Self.now()))
            return (keyID, key)
        }
        let result = ready == nil ? try write(body) : try writeAdding(body)
        logger.debug(
            "data key created",
            metadata: [
                "tenant": "\(tenantID)", "owner": "\(ownerID)", "key": "\(result.keyID)", "expires": "\(expiresOn)",
            ]
        )
        return result
    }

    /// The data key of one owner, unwrapped through its day key (or the hold key) and tenant key.
    ///
    /// Throws `dataKeyShredded` if it was destroyed (expired or erased), `unknownDataKey` if it never
    /// existed in this tenant (another tenant's owner id is reported as unknown, not as existing),
    /// `unwrapFailed` if a row was altered or moved.
    public func dataKey(ownerID: String, tenantID: String) throws(KeyStoreError) -> SecretKey {
        try read { db throws(KeyStoreError) -> SecretKey in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                throw try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
            }
            return try self.unwrapDataKey(db, row)
        }
    }

    /// The data key of one owner together with its key id (as written in a `.cvr` header).
    public func dataKeyWithID(ownerID: String, tenantID: String) throws(KeyStoreError) -> (
        keyID: String, key: SecretKey
    ) {
        try read { db throws(KeyStoreError) -> (keyID: String, key: SecretKey) in
            guard let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) else {
                throw try self.missingDataKeyError(db, ownerID: ownerID, tenantID: tenantID)
            }
            return (row.keyID, try self.unwrapDataKey(db, row))
        }
    }

    /// Whether the owner's data key is active (and held), shredded (and why), or unknown; unwraps nothing.
    public func dataKeyStatus(ownerID: String, tenantID: String) throws(KeyStoreError) -> DataKeyStatus {
        try read { db throws(KeyStoreError) -> DataKeyStatus in
            if let row = try self.dataKeyRow(db, ownerID: ownerID, tenantID: tenantID) {
                return .active(
                    keyID: row.keyID,
                    kind: KeyKind(rawValue: row.kind) ?? .voice,
                    expiresOn: try CalendarDay(row.expiresOn),
                    held: row.held
                )
            }
            if let row = try db.shreddedDataKey(ownerID: ownerID, tenantID: tenantID) {
                return .shredded(keyID: row.keyID, reason: DataKeyStatus.ShredReason(rawValue: row.reason) ?? .expired)
            }
            return .unknown
        }
    }

    func dataKeyRow(_ db: any KeyRecordTransaction, ownerID: String, tenantID: String) throws(KeyStoreError)
        -> DataKeyRecord?
    {
        try db.dataKey(ownerID: ownerID, tenantID: tenantID)
    }

    /// Unwraps a `data_key` row: through the hold key if held, else through its day key.
    func unwrapDataKey(_ db: any KeyRecordTransaction, _ row: DataKeyRecord) throws(KeyStoreError) -> SecretKey {
        let ownerID = row.ownerID
        let tenantID = row.tenantID
        let keyID = row.keyID
        let kind = row.kind
        let wrappingKeyID = row.wrappingKeyID
        let kek: SecretKey
        if row.held {
            guard let hold = try holdKey(db, tenantID, create: false), hold.keyID == wrappingKeyID else {
                throw KeyStoreError(
                    .unwrapFailed,
                    "data key \(keyID) of tenant \(tenantID) is marked held but its hold key is missing"
                )
            }
            kek = hold.key
        } else {
            guard let day = try dayKey(db, keyID: wrappingKeyID, tenantID: tenantID) else {
                throw KeyStoreError(
                    .dataKeyShredded,
                    "the day key of owner \(ownerID) (tenant \(tenantID)) was destroyed; its data is shredded"
                )
            }
            kek = day
        }
        return try Self.unwrap(
            row.wrapped,
            under: kek,
            Self.dataContext(tenantID, keyID, kind, ownerID),
            what: "data key"
        )
    }

    func missingDataKeyError(_ db: any KeyRecordTransaction, ownerID: String, tenantID: String) throws(KeyStoreError)
        -> KeyStoreError
    {
        if let row = try db.shreddedDataKey(ownerID: ownerID, tenantID: tenantID) {
            let reason = row.reason
            let at = row.shreddedAt
            return KeyStoreError(
                .dataKeyShredded,
                "the data key of owner \(ownerID) (tenant \(tenantID)) was shredded "
                    + "(\(reason), on \(CalendarDay(secondsSince1970: at))); its data cannot be read by anyone"
            )
        }
        return KeyStoreError(.unknownDataKey, "tenant \(tenantID) has no data key for owner \(ownerID)")
    }
}
