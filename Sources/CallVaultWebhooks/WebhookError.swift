/// Why one delivery attempt failed, in words an operator can act on (stored as the row's `lastError`;
/// never the receiver's response body, never a secret).
public struct WebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The URL resolves to a private, loopback or link-local address and the tenant does not allow that.
        public static let refusedTarget = Code(rawValue: "refused_target")
        /// The host name did not resolve.
        public static let unresolved = Code(rawValue: "unresolved")
        /// The receiver answered with a status other than 2xx.
        public static let status = Code(rawValue: "status")
        /// No answer in time, a refused connection, a TLS failure.
        public static let transport = Code(rawValue: "transport")
        /// The tenant has no endpoint any more, or its secret cannot be opened.
        public static let endpoint = Code(rawValue: "endpoint")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
