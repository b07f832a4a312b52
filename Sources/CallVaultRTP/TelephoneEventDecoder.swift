public import CallVaultAudio

/// Turns a stream of RFC 4733 packets into one report per key press.
///
/// An event is every packet with the same RTP timestamp (RFC 4733 §2.5.1.2: the timestamp is the
/// event's start and stays fixed while the duration grows), sent many times: start, updates, and
/// the end packet three times. The decoder reports an event at the first packet of a timestamp it
/// has not reported — a start packet normally, an end packet when the starts were lost or the
/// sender only sends ends — and ignores every later packet of it. It remembers the last few
/// timestamps in a fixed array (reordering can bring back an older event's end after a newer
/// event started), so a flood of end-only packets costs O(1) each and never reports twice.
public struct TelephoneEventDecoder: Sendable {
    /// How many recent event timestamps are remembered.
    static let memory = 4

    var recent: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    var recentCount = 0
    var nextSlot = 0

    public init() {}

    /// The digit to report for `event` at RTP timestamp `timestamp`, or nil if it was already
    /// reported (or is not a DTMF key).
    public mutating func decode(_ event: TelephoneEvent, timestamp: UInt32) -> DTMFDigit? {
        guard let digit = event.digit else { return nil }
        if seen(timestamp) { return nil }
        remember(timestamp)
        return digit
    }

    /// Forgets past events (a new SSRC: its timestamps are unrelated).
    public mutating func reset() {
        recentCount = 0
        nextSlot = 0
    }

    func seen(_ timestamp: UInt32) -> Bool {
        if recentCount > 0 && recent.0 == timestamp { return true }
        if recentCount > 1 && recent.1 == timestamp { return true }
        if recentCount > 2 && recent.2 == timestamp { return true }
        if recentCount > 3 && recent.3 == timestamp { return true }
        return false
    }

    mutating func remember(_ timestamp: UInt32) {
        switch nextSlot {
        case 0: recent.0 = timestamp
        case 1: recent.1 = timestamp
        case 2: recent.2 = timestamp
        default: recent.3 = timestamp
        }
        nextSlot = (nextSlot + 1) % Self.memory
        recentCount = min(recentCount + 1, Self.memory)
    }
}
