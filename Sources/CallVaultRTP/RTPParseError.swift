/// Why a datagram is not an RTP packet this receiver can use (RFC 3550 §5.1).
///
/// Every case says which rule the packet broke and what a sender (or the person reading the log)
/// can check; none echoes payload bytes, so audio never ends up in a log line.
public enum RTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer than the 12 bytes of the fixed header.
    case tooShort(count: Int)
    /// The version bits are not 2 (a STUN or ZRTP packet on the media port, or garbage).
    case unsupportedVersion(UInt8)
    /// The CSRC list that the CC field announces runs past the end of the datagram.
    case csrcListTruncated(csrcCount: Int, datagramSize: Int)
    /// The header extension that the X bit announces (or its length word) runs past the end.
    case extensionTruncated(datagramSize: Int)
    /// The P bit is set but the last byte's padding count is 0 or longer than the packet's payload.
    case invalidPadding(paddingCount: Int, available: Int)

    public var description: String {
        switch self {
        case .tooShort(let count):
            "RTP datagram of \(count) bytes is shorter than the 12-byte fixed header"
        case .unsupportedVersion(let version):
            "RTP version \(version) is not supported (only version 2, RFC 3550); is something other than RTP sent to the media port?"
        case .csrcListTruncated(let csrcCount, let size):
            "RTP header announces \(csrcCount) CSRCs, which do not fit in the \(size)-byte datagram"
        case .extensionTruncated(let size):
            "RTP header extension runs past the end of the \(size)-byte datagram"
        case .invalidPadding(let padding, let available):
            "RTP padding count \(padding) is invalid (must be 1...\(available) after the header)"
        }
    }
}
