/// Why SRTP set-up or an SRTP packet was refused (RFC 3711, RFC 4568).
///
/// Messages name the rule and never include key material or packet bytes, so they are safe to log
/// and to put in a SIP reason phrase.
public enum SRTPError: Error, Sendable, Equatable, CustomStringConvertible {
    // Set-up (the SDES `a=crypto` line).
    /// A crypto suite other than AES_CM_128_HMAC_SHA1_80 and _32.
    case unsupportedSuite(String)
    /// Key parameters that are not `inline:<base64>[|lifetime][|MKI:length]`.
    case invalidKeyParameter(reason: String)
    /// The inline key does not decode to 30 bytes (16 key + 14 salt).
    case wrongKeyLength(Int)
    /// A session parameter this implementation does not honour (KDR other than 0, unencrypted or
    /// unauthenticated SRTP): refused, never silently ignored.
    case unsupportedSessionParameter(String)

    // Packets.
    /// Too short for the RTP header, MKI and authentication tag.
    case packetTooShort(Int)
    /// Not a valid RTP header (under the encryption, the header is plain).
    case malformedHeader(RTPParseError)
    /// The MKI in the packet is not the one the key was given with.
    case unknownMKI
    /// The authentication tag does not match: forged, corrupted, or a different key.
    case authenticationFailed
    /// This packet index was already received (RFC 3711 §3.3.2).
    case replayed
    /// The packet index is behind the 64-packet replay window.
    case tooOld
    /// The packet comes from the SSRC the stream had before its last change.
    case retiredSSRC

    public var description: String {
        switch self {
        case .unsupportedSuite(let suite):
            "SRTP crypto suite \(suite.prefix(40)) is not supported (AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32)"
        case .invalidKeyParameter(let reason):
            "SDES key parameter is invalid: \(reason)"
        case .wrongKeyLength(let count):
            "SDES inline key decodes to \(count) bytes, not the 30 (16-byte key + 14-byte salt) the suite needs"
        case .unsupportedSessionParameter(let parameter):
            "SDES session parameter \(parameter.prefix(40)) is not supported"
        case .packetTooShort(let count):
            "SRTP packet of \(count) bytes is too short for its header and authentication tag"
        case .malformedHeader(let error):
            "SRTP packet header: \(error)"
        case .unknownMKI:
            "SRTP packet carries a master key identifier (MKI) that was not negotiated"
        case .authenticationFailed:
            "SRTP authentication tag does not match (forged or corrupted packet, or the wrong key)"
        case .replayed:
            "SRTP packet index was already received (replay)"
        case .tooOld:
            "SRTP packet index is behind the 64-packet replay window"
        case .retiredSSRC:
            "SRTP packet comes from an SSRC the stream already replaced (a replay of older media)"
        }
    }
}
