/// 20 ms of one track's audio as signed 16-bit PCM, with its place on the call's timeline.
///
/// A frame does not own its samples: they live in a ``FrameRing`` allocated once per call, so
/// passing frames along the hot path never touches the heap. A frame is valid until its ring
/// slot is reused (the ring's capacity says how many frames back that is).
public struct Frame {
    /// Every frame's length: 20 ms, the packetisation of telephony RTP, Twilio and AudioSocket.
    public static let durationMs: Int64 = 20

    /// The samples; `count == sampleRate.samplesPerFrame` (mono).
    public var samples: UnsafeMutableBufferPointer<Int16>
    /// The rate of `samples`.
    public var sampleRate: SampleRate
    /// Start of the frame on the call's timeline, in milliseconds since the track began.
    public var timestampMs: Int64
    /// End of the frame on the call's timeline: where an event that arrives after it applies.
    @inlinable public var endMs: Int64 { timestampMs + Self.durationMs }

    @inlinable
    public init(samples: UnsafeMutableBufferPointer<Int16>, sampleRate: SampleRate, timestampMs: Int64) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.timestampMs = timestampMs
    }
}
