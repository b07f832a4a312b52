public import CallVaultAudio

/// One RFC 4733 §2.3 event block: the 4-byte payload of a telephone-event packet.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
public struct TelephoneEvent: Sendable, Equatable {
    /// Event code: 0–9 the digits, 10 `*`, 11 `#`, 12–15 A–D, 16 flash, others tones (RFC 4734).
    public var event: UInt8
    /// The E bit: this packet ends the event (sent three times).
    public var isEnd: Bool
    /// Power level, 0 to −63 dBm0 (as a positive number).
    public var volume: UInt8
    /// Duration so far in RTP timestamp units.
    public var duration: UInt16

    /// Reads the first event block of `payload`, or nil if it is shorter than 4 bytes. (Redundant
    /// blocks of RFC 2198 are not used by SBCs for DTMF; the first block is the event.)
    public init?(payload: UnsafeRawBufferPointer) {
        guard payload.count >= 4 else { return nil }
        event = payload[0]
        isEnd = payload[1] & 0x80 != 0
        volume = payload[1] & 0x3F
        duration = UInt16(payload[2]) << 8 | UInt16(payload[3])
    }

    public init(event: UInt8, isEnd: Bool, volume: UInt8 = 10, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    /// The DTMF key of events 0–15, nil for the others (flash, line tones).
    public var digit: DTMFDigit? {
        switch event {
        case 0: .zero
        case 1: .one
        case 2: .two
        case 3: .three
        case 4: .four
        case 5: .five
        case 6: .six
        case 7: .seven
        case 8: .eight
        case 9: .nine
        case 10: .star
        case 11: .pound
        case 12: .a
        case 13: .b
        case 14: .c
        case 15: .d
        default: nil
        }
    }
}
