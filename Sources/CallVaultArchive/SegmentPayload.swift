public import CallVaultModel

/// The plaintext of one sealed voice segment, as the ``Segmenter`` writes it (documented in
/// docs/cvr-format.md, "Voice segment payload"):
///
/// ```
/// 0   u8      payload version (1)
/// 1   u8      codec: 1 pcm16 (little-endian samples), 2 g711u, 3 g711a, 4 opus
/// 2   u16 BE  frames in the segment (20 ms each), filled ones included
/// 4   u16 BE  frames filled with silence because the sender skipped them
/// 6   u16 BE  samples per frame
/// 8   i64 BE  the first frame's place on the call's timeline, ms
/// 16  ...     audio: pcm16 / G.711 bytes; for opus, per frame: u16 BE length, then the packet
/// ```
///
/// The timestamp is what aligns the caller and bot tracks on export: each segment is placed at its
/// first frame's time, so audio withheld between segments (paused, before consent) stays a gap.
public struct SegmentPayload {
    public static let headerByteCount = 16
    public static let version: UInt8 = 1

    public let codec: StorageCodec
    public let frameCount: Int
    public let filledFrameCount: Int
    public let samplesPerFrame: Int
    public let firstFrameMs: Int64
    /// The codec bytes (a view into the parsed buffer).
    public let audio: UnsafeRawBufferPointer

    /// Parses one payload; throws on a payload that is not version 1 or whose sizes disagree.
    public init(parsing payload: UnsafeRawBufferPointer) throws(RecorderError) {
        guard payload.count >= Self.headerByteCount else {
            throw RecorderError(.invalidArgument, "a voice segment payload needs \(Self.headerByteCount) header bytes, got \(payload.count)")
        }
        guard payload[0] == Self.version else {
            throw RecorderError(.invalidArgument, "unknown voice segment payload version \(payload[0])")
        }
        guard let codec = Self.codec(payload[1]) else {
            throw RecorderError(.unsupportedCodec, "unknown codec byte \(payload[1]) in a voice segment")
        }
        func u16(_ at: Int) -> Int { Int(payload[at]) << 8 | Int(payload[at + 1]) }
        var timestamp: UInt64 = 0
        for index in 8..<16 { timestamp = timestamp << 8 | UInt64(payload[index]) }
        self.codec = codec
        frameCount = u16(2)
        filledFrameCount = u16(4)
        samplesPerFrame = u16(6)
        firstFrameMs = Int64(bitPattern: timestamp)
        audio = UnsafeRawBufferPointer(rebasing: payload[Self.headerByteCount...])
        let expected: Int? =
            switch codec {
            case .pcm16: frameCount * samplesPerFrame * 2
            case .g711u, .g711a: frameCount * samplesPerFrame
            default: nil
            }
        if let expected, expected != audio.count {
            throw RecorderError(
                .invalidArgument, "a \(codec.rawValue) segment of \(frameCount) frames needs \(expected) audio bytes, has \(audio.count)")
        }
    }

    package static func codecByte(_ codec: StorageCodec) -> UInt8 {
        switch codec {
        case .pcm16: 1
        case .g711u: 2
        case .g711a: 3
        case .opus: 4
        case .native: 0
        }
    }

    static func codec(_ byte: UInt8) -> StorageCodec? {
        switch byte {
        case 1: .pcm16
        case 2: .g711u
        case 3: .g711a
        case 4: .opus
        default: nil
        }
    }

    /// The byte ranges of the Opus packets in a payload's audio (each: u16 big-endian length, then the
    /// packet), for readers that take packets one by one (export, redaction and its check).
    public static func opusPackets(in audio: UnsafeRawBufferPointer) throws(RecorderError) -> [Range<Int>] {
        var packets: [Range<Int>] = []
        var offset = 0
        while offset < audio.count {
            guard offset + 2 <= audio.count else {
                throw RecorderError(.sealedFileFailed, "an Opus segment ends inside a packet length")
            }
            let length = Int(audio[offset]) << 8 | Int(audio[offset + 1])
            guard length > 0, offset + 2 + length <= audio.count else {
                throw RecorderError(.sealedFileFailed, "an Opus packet length (\(length)) runs past its segment")
            }
            packets.append((offset + 2)..<(offset + 2 + length))
            offset += 2 + length
        }
        return packets
    }

    /// The format readers (recovery, export) use to find the codec bytes of a payload. An empty
    /// payload is the `last` marker a call that ended on a segment boundary writes: no audio.
    public static let format = SegmentPayloadFormat { payload throws(RecorderError) in
        payload.isEmpty ? payload : try SegmentPayload(parsing: payload).audio
    }
}
