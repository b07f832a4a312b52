/// What an ``RTPStreamReceiver`` did with the datagrams of one stream: one counter per outcome,
/// so metrics and the hostile-input tests can see why audio is missing.
public struct RTPStreamCounters: Sendable, Equatable {
    /// Audio packets placed on the timeline.
    public var audioPackets = 0
    /// Telephone-event packets (every one, reported or deduplicated).
    public var telephoneEventPackets = 0
    /// Comfort-noise packets (the silence they stand for is filled like any gap).
    public var comfortNoisePackets = 0
    /// RTCP multiplexed on the RTP port (RFC 5761), passed over.
    public var rtcpPackets = 0
    /// Datagrams that are not valid RTP (``RTPParseError``).
    public var malformed = 0
    /// Payload types the SDP's rtpmap did not offer.
    public var unknownPayloadType = 0
    /// Audio of a codec whose rate differs from the stream's frames (a mid-call codec switch).
    public var rateMismatch = 0
    /// Packets whose payload did not decode (corrupt Opus, Opus other than 20 ms).
    public var decodeFailed = 0
    /// Packets holding more than 200 ms of audio.
    public var tooLong = 0
    /// Sequence numbers already received.
    public var duplicates = 0
    /// Packets that arrived after their place on the timeline was handed out (older than the
    /// reorder window), or far behind the newest.
    public var late = 0
    /// Packets dropped by the sequence check: a jump not (yet) confirmed, or source probation.
    public var sequenceRejected = 0
    /// Packets from the SSRC the stream had before its last change (within 2 s of it).
    public var staleSSRC = 0
    /// Packets of another SSRC not (yet) confirmed by a second one with a nearby sequence number.
    public var unconfirmedSSRC = 0
    /// SSRC changes (each starts a new epoch on the same timeline).
    public var ssrcChanges = 0
    /// Timestamp jumps the timeline did not follow (see ``RTPStreamReceiver``): restarted instead.
    public var timelineRestarts = 0
    /// Frames handed to the sink.
    public var frames = 0
    /// DTMF digits reported.
    public var digits = 0

    public init() {}
}
