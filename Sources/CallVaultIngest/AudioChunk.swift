/// Received audio bytes on their way into a ``FrameAssembler``, with where they start on the timeline.
///
/// The assembler consumes bytes from the front, so a caller loops `while let frame = try
/// assembler.nextFrame(from: &chunk)` until the chunk is used up. The bytes are a view of the
/// caller's received buffer and must stay valid for that loop.
public struct AudioChunk {
    /// Bytes not yet consumed.
    public var bytes: UnsafeRawBufferPointer
    /// Milliseconds on the track's timeline of the chunk's first sample, when the protocol says
    /// (Twilio's `media.timestamp`); nil to place it right after the previous chunk by sample count.
    /// The assembler reads it once and then sets it to nil.
    public var timestampMs: Int64?

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, timestampMs: Int64? = nil) {
        self.bytes = bytes
        self.timestampMs = timestampMs
    }
}
