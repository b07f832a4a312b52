/// What the key store knows about one owner's (recording's or transcript's) data key.
public enum DataKeyStatus: Sendable, Equatable {
    /// Why a data key is gone.
    public enum ShredReason: String, Sendable, Equatable {
        /// Its day key was destroyed at expiry (or the hold was released after the day had passed).
        case expired
        /// It was destroyed on request (a data subject's erasure).
        case erased
    }

    /// The key exists; `held` if it is wrapped under the tenant's hold key instead of a day key.
    case active(keyID: String, kind: KeyKind, expiresOn: CalendarDay, held: Bool)
    /// The key was destroyed: whatever it sealed is unreadable everywhere, backups included.
    case shredded(keyID: String, reason: ShredReason)
    /// The key store never had a key for this owner in this tenant.
    case unknown
}
