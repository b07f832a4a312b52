public import CallVaultAudio

extension RTPStreamReceiver {
    /// How one stream is received: the payload map comes from the `m=` line
    /// (``RTPPayloadMap/init(media:)``), the rest has defaults.
    public struct Configuration: Sendable {
        /// Payload type → codec, from the SDP.
        public var payloads: RTPPayloadMap
        /// How long audio waits for late packets before its frames are handed out (0...200 ms;
        /// larger values are clamped). Packets older than this are dropped and counted as late.
        /// The default, 60 ms, covers the reordering of real networks well inside a 1 s segment.
        public var reorderWindowMs: Int = 60
        /// The longest timestamp gap filled with silence (ms). A longer jump restarts the timeline
        /// instead, so a sender's timestamp jump of hours cannot make gigabytes of silence.
        public var maxGapMs: Int = 60_000
        /// How far RTP time may run ahead of arrival time (ms) before a forward jump counts as a
        /// timestamp discontinuity rather than silence: silence is only filled as fast as real time
        /// passes, so no stream of packets can make more audio than the call is long.
        public var clockToleranceMs: Int = 1_000
        /// The rate Opus is decoded at (its RTP clock is always 48 kHz).
        public var opusRate: SampleRate = .hz48000
        /// Frames valid at once (see ``FrameRing``).
        public var ringCapacity: Int = 4
        /// Timeline position of the first sample, in ms.
        public var startMs: Int64 = 0
        /// In-order packets a new SSRC must send before its audio counts (RFC 3550 A.1
        /// `MIN_SEQUENTIAL`). 1: the signalling already vouched for the peer.
        public var minSequential: Int = 1

        public init(payloads: RTPPayloadMap) {
            self.payloads = payloads
        }
    }
}
