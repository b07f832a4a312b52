/// An explicit decision to process a restricted recording (GDPR Art. 18) anyway.
///
/// Art. 18(2) allows it with the data subject's consent, for legal claims or to protect another
/// person; the reason says which, and is kept in the `recording.restriction_overridden` audit entry
/// written before anything is decrypted. It is a value of its own, not a flag, so that a caller
/// cannot override a restriction without saying why.
public struct RestrictionOverride: Sendable, Equatable {
    /// Why the restriction is overridden (1 to 500 bytes; no phone numbers or transcript text).
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    /// Whether the reason fits the audit log (1 to 500 bytes).
    public var isValid: Bool { !reason.isEmpty && reason.utf8.count <= 500 }
}
