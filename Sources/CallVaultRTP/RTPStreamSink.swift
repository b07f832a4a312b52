public import CallVaultAudio

/// Where an ``RTPStreamReceiver`` delivers what a datagram completed.
///
/// A generic `inout` parameter rather than a stored closure: nothing is captured or boxed per
/// packet, and the sink (the recorder's per-track writer, a test's collector) keeps its own state.
/// A frame's samples live in the receiver's ``FrameRing`` and are valid only during the call.
public protocol RTPStreamSink {
    /// The next 20 ms of the stream, in timeline order, gaps already filled with silence.
    mutating func receive(frame: Frame)
    /// A key press (RFC 4733), reported once, as soon as its first packet arrives.
    mutating func receive(dtmf: DTMFEvent)
}
