/// The audit entries written before a recording or transcript is decrypted, in one transaction.
public struct DecryptionAudit: Sendable {
    /// The `recording.decrypted` or `transcript.decrypted` entry.
    public let decrypted: AuditEntry
    /// The `recording.restriction_overridden` entries written just before it, one per restricted
    /// recording; empty when nothing was restricted.
    public let restrictionOverrides: [AuditEntry]

    package init(decrypted: AuditEntry, restrictionOverrides: [AuditEntry]) {
        self.decrypted = decrypted
        self.restrictionOverrides = restrictionOverrides
    }
}
