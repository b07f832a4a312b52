/// A sliding window of the last 64 packet indices seen: duplicate detection for RTP and the replay
/// list of SRTP (RFC 3711 §3.3.2).
///
/// One 64-bit mask, so checking and marking are O(1) and allocation-free. Indices more than 63
/// behind the highest are "too old" (SRTP must refuse them; the receiver treats them as late).
public struct RTPReplayWindow: Sendable {
    /// How far behind the highest index the window remembers.
    public static let size: Int64 = 64

    /// What ``check(_:)`` says about an index.
    public enum Verdict: Sendable, Equatable {
        case new
        case duplicate
        case tooOld
    }

    /// Highest index marked, or -1 before the first.
    public private(set) var highest: Int64 = -1
    /// Bit i: index `highest - i` was seen.
    var mask: UInt64 = 0

    public init() {}

    /// Whether `index` is new, seen before, or behind the window. Does not mark it.
    public func check(_ index: Int64) -> Verdict {
        if index > highest { return .new }
        let behind = highest - index
        if behind >= Self.size { return .tooOld }
        return mask & (1 << UInt64(behind)) != 0 ? .duplicate : .new
    }

    /// Marks `index` as seen (call after the packet was accepted: for SRTP, after authentication).
    public mutating func mark(_ index: Int64) {
        if index > highest {
            let shift = index - highest
            mask = shift >= Self.size ? 0 : mask << UInt64(shift)
            mask |= 1
            highest = index
        } else {
            let behind = highest - index
            if behind < Self.size { mask |= 1 << UInt64(behind) }
        }
    }

    /// Forgets everything (a new source).
    public mutating func reset() {
        highest = -1
        mask = 0
    }
}
