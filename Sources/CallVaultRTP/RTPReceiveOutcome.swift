/// What ``RTPStreamReceiver/receive(_:arrivalNanos:into:)`` did with one datagram (also counted in
/// ``RTPStreamCounters``): the caller logs or meters it, tests assert on it.
public enum RTPReceiveOutcome: Sendable, Equatable {
    case audio
    case telephoneEvent
    case comfortNoise
    case rtcp
    case malformed(RTPParseError)
    case unknownPayloadType(UInt8)
    case rateMismatch
    case decodeFailed
    case tooLong
    case duplicate
    case late
    case sequenceRejected
    case staleSSRC
    case unconfirmedSSRC
}
