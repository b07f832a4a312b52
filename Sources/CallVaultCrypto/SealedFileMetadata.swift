/// What a sealed file holds, as the recorder knows it before the first byte is sealed.
///
/// All of it is stored in the clear in the header (and authenticated), so it must never hold
/// personal data: ids are opaque identifiers, not phone numbers or names.
public struct SealedFileMetadata: Sendable, Equatable {
    /// Voice audio or a transcript; they have different retention and day keys.
    public enum Kind: UInt8, Sendable, Equatable, CaseIterable {
        case voice = 1
        case transcript = 2
    }

    /// How the plaintext of the segments is encoded.
    public enum Codec: UInt8, Sendable, Equatable, CaseIterable {
        case pcm16 = 1
        case g711u = 2
        case g711a = 3
        case opus = 4
        case json = 16
        case text = 17
    }

    public var kind: Kind
    public var tenantID: String
    public var recordingID: String
    /// The data key's id in the key store (to find the wrapped DEK).
    public var keyID: String
    public var codec: Codec
    /// Samples per second (0 for transcripts).
    public var sampleRate: UInt32
    public var channels: UInt8
    /// Duration of one codec frame in ms (0 for transcripts).
    public var frameDurationMs: UInt16
    /// Creation time, milliseconds since the Unix epoch.
    public var createdAtMs: Int64
    /// This part's number; 0 for the first file of a recording.
    public var partNumber: UInt32
    /// The index of this part's first segment: 0 for part 0, else the previous part's last index + 1.
    public var firstSegmentIndex: UInt32

    public init(
        kind: Kind, tenantID: String, recordingID: String, keyID: String, codec: Codec,
        sampleRate: UInt32, channels: UInt8 = 1, frameDurationMs: UInt16 = 20, createdAtMs: Int64,
        partNumber: UInt32 = 0, firstSegmentIndex: UInt32 = 0
    ) {
        self.kind = kind
        self.tenantID = tenantID
        self.recordingID = recordingID
        self.keyID = keyID
        self.codec = codec
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameDurationMs = frameDurationMs
        self.createdAtMs = createdAtMs
        self.partNumber = partNumber
        self.firstSegmentIndex = firstSegmentIndex
    }
}
