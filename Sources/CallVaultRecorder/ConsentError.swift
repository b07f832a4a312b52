/// Why the consent gate refused an event: the event is not applied (the gate's state is unchanged)
/// and the caller reports the message (HTTP 409 from the control API, a log line for DTMF).
public struct ConsentError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The tenant requires the AI/recording disclosure before consent counts.
        case disclosureRequired
        /// `revoke` while nothing is being recorded.
        case nothingToRevoke
        /// `pause` while already paused.
        case alreadyPaused
        /// `resume` while not paused.
        case notPaused
        /// Any event after the call ended.
        case callEnded
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
