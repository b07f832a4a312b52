/// One verified segment handed out by a reader.
///
/// `plaintext` points into the reader's own buffer and is valid only until the reader's next call;
/// copy what must outlive it. It is handed out only after the segment's tag verified.
public struct SealedSegment {
    public let index: UInt32
    public let isLast: Bool
    public let plaintext: UnsafeRawBufferPointer
}
