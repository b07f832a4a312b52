/// The result of checking the audit log's hash chain from the first entry to the last.
public enum AuditVerification: Sendable, Equatable {
    /// Every entry verifies and links to the one before. `headHash` is the last entry's hash
    /// (32 zero bytes for an empty log): record it elsewhere to also detect a cut-off tail later.
    case intact(entries: Int, headHash: [UInt8])
    /// The first entry where the chain fails, why, and how many entries before it verified.
    case broken(seq: Int64, reason: AuditBreak, verifiedEntries: Int)

    public var isIntact: Bool {
        if case .intact = self { return true }
        return false
    }
}
