public import CallVaultAudio

/// What one RTP payload type carries, as named by the SDP's `a=rtpmap` (never a static table:
/// SBCs put telephone-event on 96, 101 or 126 and opus anywhere in the dynamic range).
public enum RTPCodec: Sendable, Equatable {
    case pcmu
    case pcma
    /// G.722: 16 kHz audio whose RTP clock (and rtpmap) says 8000, an RFC 3551 §4.5.2 quirk.
    case g722
    /// Opus (RFC 7587): the RTP clock is always 48 kHz; decoded at ``RTPStreamReceiver/Configuration/opusRate``.
    case opus
    /// RFC 4733 events: DTMF digits, never audio.
    case telephoneEvent
    /// Comfort noise (RFC 3389): counted as silence.
    case comfortNoise

    /// The codec an rtpmap encoding name stands for (case-insensitive), or nil if unsupported.
    public init?(encodingName: some StringProtocol) {
        switch encodingName.lowercased() {
        case "pcmu": self = .pcmu
        case "pcma": self = .pcma
        case "g722": self = .g722
        case "opus": self = .opus
        case "telephone-event": self = .telephoneEvent
        case "cn": self = .comfortNoise
        default: return nil
        }
    }

    /// Whether the payload is audio samples (as opposed to events or comfort noise).
    public var isAudio: Bool {
        switch self {
        case .pcmu, .pcma, .g722, .opus: true
        case .telephoneEvent, .comfortNoise: false
        }
    }

    /// The rate frames of this codec come out at (opus: as configured).
    public func naturalRate(opusRate: SampleRate) -> SampleRate {
        switch self {
        case .g722: .hz16000
        case .opus: opusRate
        default: .hz8000
        }
    }

    /// The RTP timestamp clock in Hz, whatever the rtpmap says: G.722 is 8000 although it samples at
    /// 16 kHz, opus is 48000.
    public var rtpClockRate: Int {
        switch self {
        case .opus: 48_000
        default: 8_000
        }
    }
}
