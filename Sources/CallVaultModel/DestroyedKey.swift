/// One day key destroyed by `KeyStore.destroyDayKeys`, with the data keys that went with it.
///
/// The sweeper uses `ownerIDs` to mark those recordings and transcripts shredded in the catalog and to
/// delete their files; held data keys are not among them (they were wrapped under the hold key).
public struct DestroyedKey: Sendable, Equatable {
    public let tenantID: String
    public let day: CalendarDay
    public let kind: KeyKind
    /// The destroyed day key's id.
    public let keyID: String
    /// The owners (recording or transcript ids) whose data keys were deleted with it.
    public let ownerIDs: [String]

    public init(tenantID: String, day: CalendarDay, kind: KeyKind, keyID: String, ownerIDs: [String]) {
        self.tenantID = tenantID
        self.day = day
        self.kind = kind
        self.keyID = keyID
        self.ownerIDs = ownerIDs
    }
}
