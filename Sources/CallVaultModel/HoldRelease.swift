/// The outcome of `KeyStore.releaseHold`.
public enum HoldRelease: Sendable, Equatable {
    /// The data key is wrapped under the day key of its (new) expiry day again.
    case rewrapped(dayKeyID: String, expiresOn: CalendarDay)
    /// The expiry day had passed (or its day key was already shredded), so the data key was destroyed.
    case shredded
}
