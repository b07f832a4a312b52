public import CallVaultModel
import CallVaultAudio

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
    /// Opus, whose byte count says nothing of its length (``sampleCount(in:codec:sampleRate:)`` counts it).
    public static func sampleCount(byteCount: Int, codec: StorageCodec) -> Int? {
        switch codec {
        case .pcm16: byteCount / 2
        case .g711u, .g711a: byteCount
        case .opus, .native: nil
        }
    }

    /// Samples in one payload's codec bytes, Opus included: the segmenter encodes one 20 ms frame per
    /// packet, so an Opus payload holds its packet count times a frame, read from the packet lengths
    /// without decoding (recovery's duration, the export's index). Throws if the packets are malformed.
    public static func sampleCount(
        in audio: UnsafeRawBufferPointer, codec: StorageCodec, sampleRate: Int
    ) throws(RecorderError) -> Int {
        guard codec == .opus else { return sampleCount(byteCount: audio.count, codec: codec) ?? 0 }
        guard let frame = SampleRate(rawValue: sampleRate)?.samplesPerFrame else { return 0 }
        return try SegmentPayload.opusPackets(in: audio).count * frame
    }
}
