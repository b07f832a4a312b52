/// The SDES crypto suites supported (RFC 4568 §6.2): AES in counter mode with a 128-bit key and
/// HMAC-SHA1, the tag truncated to 80 or 32 bits. These two are what every SBC offers.
public enum SRTPCryptoSuite: String, Sendable, CaseIterable {
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"

    /// The suite named in an `a=crypto` line (case-insensitive).
    public init(name: some StringProtocol) throws(SRTPError) {
        switch name.uppercased() {
        case Self.aesCM128HMACSHA1_80.rawValue: self = .aesCM128HMACSHA1_80
        case Self.aesCM128HMACSHA1_32.rawValue: self = .aesCM128HMACSHA1_32
        default: throw .unsupportedSuite(String(name))
        }
    }

    /// Bytes of the SRTP authentication tag.
    public var rtpTagLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80: 10
        case .aesCM128HMACSHA1_32: 4
        }
    }

    /// Bytes of the SRTCP authentication tag: 80 bits for both suites (RFC 4568 §6.2.2).
    public var rtcpTagLength: Int { 10 }

    public static let masterKeyLength = 16
    public static let masterSaltLength = 14
}
