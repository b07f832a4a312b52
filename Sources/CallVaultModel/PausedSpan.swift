/// Audio withheld from the recording (PCI: a card number was read), on the call's timeline.
public struct PausedSpan: Sendable, Equatable {
    public var startMs: Int64
    public var endMs: Int64

    public init(startMs: Int64, endMs: Int64) {
        self.startMs = startMs
        self.endMs = endMs
    }
}
