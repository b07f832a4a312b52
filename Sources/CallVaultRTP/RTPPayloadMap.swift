public import CallVaultSIP

/// Payload type → codec for one `m=` stream, built from its `a=rtpmap` lines.
///
/// A fixed 128-entry table: looking a packet's payload type up is one index, never a dictionary.
public struct RTPPayloadMap: Sendable, Equatable {
    /// A payload type the map was given that it cannot decode (kept so the answer can leave it out).
    public struct Unsupported: Sendable, Equatable {
        public var payloadType: Int
        public var encoding: String
    }

    var table: [RTPCodec?] = Array(repeating: nil, count: 128)
    /// Clock rates as the rtpmap wrote them (telephone-event follows the audio's clock: 8000 or 48000).
    var clocks: [Int] = Array(repeating: 0, count: 128)
    /// The first audio codec mapped (in rtpmap order): the rate of the receiver's frames.
    public private(set) var primaryAudioCodec: RTPCodec?
    /// Entries the map could not use.
    public private(set) var unsupported: [Unsupported] = []

    public init() {}

    /// The map for a media description: each rtpmap with a known encoding; the static payload types
    /// 0 (PCMU), 8 (PCMA), 9 (G.722) and 13 (CN) also when listed in `m=` without an rtpmap
    /// (RFC 3551 lets senders omit it).
    public init(media: SDPMedia) {
        self.init(rtpmaps: media.rtpmaps, staticPayloadTypes: media.payloadTypes)
    }

    /// The map for `rtpmaps`, plus those of `staticPayloadTypes` (0, 8, 9, 13) without an rtpmap.
    public init(rtpmaps: [SDPRTPMap], staticPayloadTypes: [Int] = []) {
        for map in rtpmaps {
            if let codec = RTPCodec(encodingName: map.encoding) {
                set(codec, for: UInt8(map.payloadType), clockRate: map.clockRate)
            } else {
                unsupported.append(Unsupported(payloadType: map.payloadType, encoding: map.encoding))
            }
        }
        for pt in staticPayloadTypes where (0...127).contains(pt) && table[pt] == nil {
            switch pt {
            case 0: set(.pcmu, for: 0, clockRate: 8000)
            case 8: set(.pcma, for: 8, clockRate: 8000)
            case 9: set(.g722, for: 9, clockRate: 8000)
            case 13: set(.comfortNoise, for: 13, clockRate: 8000)
            default: break
            }
        }
    }

    /// Maps `payloadType` (0...127) to `codec`.
    public mutating func set(_ codec: RTPCodec, for payloadType: UInt8, clockRate: Int? = nil) {
        let pt = Int(payloadType & 0x7F)
        table[pt] = codec
        if primaryAudioCodec == nil && codec.isAudio { primaryAudioCodec = codec }
        clocks[pt] = clockRate ?? codec.rtpClockRate
    }

    /// The codec of `payloadType`, or nil if the SDP did not offer it.
    public func codec(for payloadType: UInt8) -> RTPCodec? {
        table[Int(payloadType & 0x7F)]
    }

}
