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

    public var description: String {
        switch self {
        case .callerHungUp: return "caller hung up"
        case .frameForwarding: return "frame forwarding failed"
        case .memory: return "out of memory"
        default: return "error code 0x\(String(rawValue, radix: 16))"
        }
    }
}
