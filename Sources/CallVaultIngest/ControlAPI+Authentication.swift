public import CallVaultModel
import CallVaultStore

#if canImport(Glibc)
    import Glibc
#endif

extension ControlAPI {
    /// The tenant a token authenticates, or the response refusing it: 401 for a missing or unknown token,
    /// 429 (with `Retry-After`) when `address` sent too many unknown tokens lately (the token is then not
    /// checked at all, so a lucky guess is not confirmed), 503 when the catalog cannot answer.
    ///
    /// - Parameters:
    ///   - address: the client's IP address, whose unknown tokens are counted and throttled (nil: not
    ///     throttled, e.g. a caller that is not a socket).
    ///   - counting: false for a second look at a request already counted (the WebSocket upgrader checks a
    ///     token before the HTTP handler answers the same request).
    public func authenticate(_ token: String?, from address: String?, counting: Bool = true) async
        -> Result<Tenant, ControlFailure>
    {
        guard let token, !token.isEmpty else {
            return .failure(ControlFailure(Self.unauthorized("missing tenant token (send Authorization: Bearer TOKEN)")))
        }
        let address = address.map(Self.throttleKey)
        if let address, let tokenFailures, let wait = tokenFailures.wait(address) {
            if counting { metrics.tokenThrottled.increment() }
            return .failure(
                ControlFailure(
                    Self.tooManyRequests(
                        "too many unknown tokens from this address; try again in \(Self.seconds(wait)) s", wait: wait)))
        }
        do {
            guard let tenant = try await catalog.tenant(authenticatedBy: token) else {
                if counting {
                    metrics.tokenFailures.increment()
                    if let address { _ = tokenFailures?.take(address) }
                }
                return .failure(ControlFailure(Self.unauthorized("unknown tenant token")))
            }
            return .success(tenant)
        } catch {
            logger.error("catalog unavailable during authentication", metadata: ["error": "\(error.message)"])
            return .failure(ControlFailure(.error(503, "the catalog is unavailable (\(error.message)); retry")))
        }
    }

    /// ``authenticate(_:from:counting:)`` with the request's bearer token, then the tenant's client
    /// certificate (403 when it pins certificates and the connection did not present one of them: the token
    /// alone is not enough), then its request rate: 429 with `Retry-After` past `serve --api-rate`.
    func authenticateLimited(_ request: ControlRequest) async -> Result<Tenant, ControlFailure> {
        let result = await authenticate(request.bearerToken, from: request.remoteAddress)
        guard case .success(let tenant) = result else { return result }
        if let refusal = request.security.refusal(for: tenant) {
            metrics.clientCertificateRefused.increment()
            logger.notice(
                "request refused: client certificate", metadata: ["tenant": "\(tenant.id)", "reason": "\(refusal)"])
            return .failure(ControlFailure(.error(403, refusal)))
        }
        guard let wait = tenantRequests?.take(tenant.id) else { return result }
        metrics.rateLimited.increment()
        return .failure(
            ControlFailure(
                Self.tooManyRequests(
                    "tenant \(tenant.id) is over its request rate (\(limits.requestsPerSecond) a second); try again in \(Self.seconds(wait)) s",
                    wait: wait)))
    }

    /// Whose unknown tokens an address counts against: an IPv4 address itself (also when IPv4-mapped),
    /// an IPv6 address's /64 (one host usually holds a whole /64, and could otherwise send each guess
    /// from a new address).
    static func throttleKey(_ address: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let prefix = stride(from: 0, to: 8, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
        return prefix.joined(separator: ":") + "::/64"
    }

    /// 401 with `WWW-Authenticate: Bearer` (RFC 6750).
    static func unauthorized(_ detail: String) -> ControlResponse {
        .error(401, detail, headers: [.init("WWW-Authenticate", #"Bearer realm="callvault""#)])
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    static func tooManyRequests(_ detail: String, wait: Duration) -> ControlResponse {
        .error(429, detail, headers: [.init("Retry-After", String(seconds(wait)))])
    }

    /// A wait in whole seconds, rounded up, at least 1.
    static func seconds(_ wait: Duration) -> Int64 {
        let (seconds, attoseconds) = wait.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
