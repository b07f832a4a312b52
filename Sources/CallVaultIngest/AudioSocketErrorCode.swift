/// The one-byte code of an AudioSocket error message (kind 0xFF), as Asterisk's `res_audiosocket` sends.
///
/// A struct around the byte, not an enum, so a code newer than this list still reaches the caller.
public struct AudioSocketErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The caller hung up.
    public static let callerHungUp = AudioSocketErrorCode(rawValue: 0x01)
    /// Asterisk failed to forward a frame.
    public static let frameForwarding = AudioSocketErrorCode(rawValue: 0x02)
    /// Asterisk ran out of memory.
    public static let memory = AudioSocketErrorCode(rawValue: 0x04)
    /// CallVault refused the stream or its input: malformed framing, an unregistered UUID, a stream limit.
    ///
    /// The protocol leaves the error payload to the application ("application-specific error code");
    /// Asterisk's own codes are the low bits 0x01, 0x02 and 0x04, so the server's code is the top bit,
    /// which Asterisk never sends: a peer can tell the server's refusal from its own errors. The
    /// reason itself goes to the server's log and metrics (AudioSocket has no room for text).
    public static let applicationError = AudioSocketErrorCode(rawValue: 0x80)

    public var description: String {
        switch self {
        case .callerHungUp: return "caller hung up"
        case .frameForwarding: return "frame forwarding failed"
        case .memory: return "out of memory"
        case .applicationError: return "application error"
        default: return "error code 0x\(String(rawValue, radix: 16))"
        }
    }
}
