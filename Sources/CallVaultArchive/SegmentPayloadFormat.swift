public import CallVaultModel

/// How to find the codec bytes inside a segment payload, for readers of a recording (recovery's
/// duration count, export's decoding).
///
/// The segmenter defines the payload (it may put a small header — first-frame timestamp, frame
/// count — before the codec bytes); this type keeps the writer side independent of that layout:
/// pass the segmenter's format where it is known, or ``rawCodec`` for payloads that are codec bytes only.
public struct SegmentPayloadFormat: Sendable {
    /// Returns the codec bytes of one payload (a slice of it), or throws if the payload is malformed.
    public var audioBytes: @Sendable (UnsafeRawBufferPointer) throws(RecorderError) -> UnsafeRawBufferPointer

    public init(
        audioBytes: @escaping @Sendable (UnsafeRawBufferPointer) throws(RecorderError) -> UnsafeRawBufferPointer
    ) {
        self.audioBytes = audioBytes
    }

    /// Payloads that are nothing but codec bytes.
    public static let rawCodec = SegmentPayloadFormat { payload throws(RecorderError) in payload }

    /// Samples in `byteCount` codec bytes: 2 bytes per PCM16 sample, 1 per G.711 sample; nil for
    /// Opus, whose packets must be decoded to be counted.
    public static func sampleCount(byteCount: Int, codec: StorageCodec) -> Int? {
        switch codec {
        case .pcm16: byteCount / 2
        case .g711u, .g711a: byteCount
        case .opus, .native: nil
        }
    }
}
