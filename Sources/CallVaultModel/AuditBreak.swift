/// Why the audit chain is broken at an entry.
public enum AuditBreak: String, Sendable, Equatable, Codable {
    /// The entry's content no longer matches its own hash: a field was changed in place.
    case edited
    /// A sequence number is missing: an entry was deleted.
    case removed
    /// The entry links to an entry that is elsewhere in the log: entries were swapped or moved.
    case reordered
    /// The entry links to a hash that no entry holds: an entry before it was deleted and the rest
    /// renumbered, or the entry before it was rewritten together with its hash.
    case chainBroken = "chain-broken"
}
