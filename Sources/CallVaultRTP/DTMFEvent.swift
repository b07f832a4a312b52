public import CallVaultAudio

/// A key press received as RFC 4733 telephone-event, placed on the stream's timeline.
public struct DTMFEvent: Sendable, Equatable {
    public var digit: DTMFDigit
    /// Where the key press started on the stream timeline (ms, same axis as the frames).
    public var timestampMs: Int64
    /// The event's RTP timestamp (its identity, RFC 4733 §2.5.1.2).
    public var rtpTimestamp: UInt32
    /// Whether the packet that reported it was an end packet (the start packets were lost or never sent).
    public var fromEndPacket: Bool

    public init(digit: DTMFDigit, timestampMs: Int64, rtpTimestamp: UInt32, fromEndPacket: Bool) {
        self.digit = digit
        self.timestampMs = timestampMs
        self.rtpTimestamp = rtpTimestamp
        self.fromEndPacket = fromEndPacket
    }
}
