public import CallVaultAudio
public import Foundation

/// One message of an Asterisk AudioSocket stream (`kind u8 | length u16 big-endian | payload`).
///
/// The audio payload is a view, not a copy: into the caller's received bytes when the message
/// arrived whole, else into the parser's preallocated buffer. Either way it is valid only until
/// the next call to ``AudioSocketParser/next(from:)`` or until the received buffer is released.
public enum AudioSocketMessage {
    /// Kind 0x01: the call's UUID (16 bytes), always the first message.
    case uuid(UUID)
    /// Kinds 0x10–0x18: signed 16-bit little-endian mono samples at `sampleRateHz`.
    case audio(sampleRateHz: Int, payload: UnsafeRawBufferPointer)
    /// Kind 0x03: a DTMF key (one ASCII character).
    case dtmf(DTMFDigit)
    /// Kind 0x00: the call is over; nothing may follow.
    case hangup
    /// Kind 0xFF: Asterisk reports an error; nothing may follow.
    case error(AudioSocketErrorCode)

    /// The message kinds, with the byte that announces each.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case hangup = 0x00
        case uuid = 0x01
        case dtmf = 0x03
        case slin8000 = 0x10
        case slin12000 = 0x11
        case slin16000 = 0x12
        case slin24000 = 0x13
        case slin32000 = 0x14
        case slin44100 = 0x15
        case slin48000 = 0x16
        case slin96000 = 0x17
        case slin192000 = 0x18
        case error = 0xFF

        /// The sample rate of an audio kind, nil for the others.
        @inlinable
        public var sampleRateHz: Int? {
            switch self {
            case .slin8000: return 8000
            case .slin12000: return 12000
            case .slin16000: return 16000
            case .slin24000: return 24000
            case .slin32000: return 32000
            case .slin44100: return 44100
            case .slin48000: return 48000
            case .slin96000: return 96000
            case .slin192000: return 192000
            case .hangup, .uuid, .dtmf, .error: return nil
            }
        }
    }
}
