import CallVaultModel
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SSRF guard's second half: before each delivery the endpoint's host is resolved and every
/// address it resolves to is checked (``WebhookURLCheck/isPrivate(_:)``); one private, loopback or
/// link-local address refuses the delivery unless the tenant allows private targets. Redirects are never
/// followed, so a receiver cannot bounce a request inward either.
///
/// The HTTP client resolves the name again when it connects, so a name whose answers change between the
/// two lookups (DNS rebinding) is not stopped by this alone; an egress firewall closes that gap.
public enum WebhookTargetGuard {
    /// Checks `url`'s host; throws ``WebhookError`` with the reason when it must not be called.
    public static func check(_ url: URL, allowPrivate: Bool) throws(WebhookError) {
        guard let host = url.host, !host.isEmpty else { throw WebhookError(.endpoint, "the webhook URL has no host") }
        if allowPrivate { return }
        let addresses = try resolve(host)
        if let refused = addresses.first(where: WebhookURLCheck.isPrivate) {
            throw WebhookError(
                .refusedTarget,
                "\(host) resolves to \(describe(refused)), a private, loopback or link-local address: refused (SSRF guard); "
                    + "set `tenant set --webhook-allow-private` if this receiver is meant to be internal"
            )
        }
    }

    /// Every address `host` resolves to (a literal address is itself), in network byte order.
    static func resolve(_ host: String) throws(WebhookError) -> [[UInt8]] {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &result)
        guard status == 0, let first = result else {
            throw WebhookError(.unresolved, "\(host) does not resolve (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        addresses.append(withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        addresses.append(withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) })
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw WebhookError(.unresolved, "\(host) resolves to no IP address") }
        return addresses
    }

    static func describe(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2).map {
            String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16)
        }
        .joined(separator: ":")
    }
}
