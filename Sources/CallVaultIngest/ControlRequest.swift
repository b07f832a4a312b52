/// One HTTP request to the control API, as plain values (so the API is testable without sockets).
public struct ControlRequest: Sendable {
    public var method: String
    /// The request target: path and optional `?query`.
    public var target: String
    /// The `Authorization` header, if any.
    public var authorization: String?
    public var body: [UInt8]
    /// The client's IP address (the TCP peer), whose unknown tokens are throttled; nil when unknown.
    public var remoteAddress: String?
    /// Plain or TLS, and the client certificate presented: a tenant that pins certificates takes only
    /// requests that presented one of them (plain by default, so a pinned tenant refuses what cannot tell).
    public var security: ConnectionSecurity

    public init(
        method: String, target: String, authorization: String? = nil, body: [UInt8] = [], remoteAddress: String? = nil,
        security: ConnectionSecurity = .plain
    ) {
        self.security = security
        self.method = method
        self.target = target
        self.authorization = authorization
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The path without the query.
    public var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The value of one query parameter (no percent-decoding: tokens and ids are URL-safe).
    public func query(_ name: String) -> String? {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }

    /// The token of an `Authorization: Bearer TOKEN` header.
    public var bearerToken: String? {
        guard let authorization else { return nil }
        let prefix = "Bearer "
        guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix.lowercased()) else {
            return nil
        }
        return String(authorization.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }
}
