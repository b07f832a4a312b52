import Foundation

/// What makes a webhook URL acceptable before anything is sent to it (the SSRF guard's first half; the
/// dispatcher checks the addresses the host resolves to before each delivery).
///
/// `https` is required, so events cross the network encrypted and the receiver is authenticated by its
/// certificate; plain `http` is allowed only with `allowPrivate` (a receiver on loopback or a private
/// network that the operator vouches for, e.g. a sidecar). No user-info (`user:pass@`) is accepted.
public enum WebhookURLCheck {
    /// Checks `url`'s form; the error says what to change.
    public static func checkSyntax(_ url: String, allowPrivate: Bool) throws(CatalogError) {
        guard url.utf8.count <= 2048, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw CatalogError(.invalidArgument, "the webhook URL must be an absolute https:// URL with a host")
        }
        guard components.user == nil, components.password == nil else {
            throw CatalogError(
                .invalidArgument,
                "the webhook URL must not carry a user or password (the signature authenticates CallVault)"
            )
        }
        switch scheme {
        case "https": return
        case "http" where allowPrivate: return
        case "http":
            throw CatalogError(
                .invalidArgument,
                "the webhook URL must use https:// (plain http:// only with --webhook-allow-private, for a receiver on a private network)"
            )
        default:
            throw CatalogError(.invalidArgument, "the webhook URL must use https://, not \(scheme)://")
        }
    }

    /// Whether an IPv4 or IPv6 address (network byte order) is one the guard refuses unless the tenant
    /// allows private targets: loopback, RFC 1918 and other private or shared ranges, link-local (cloud
    /// metadata services live there), unspecified, multicast, and IPv4 reached through IPv6 mappings.
    public static func isPrivate(_ address: [UInt8]) -> Bool {
        if address.count == 4 {
            let (a, b) = (address[0], address[1])
            return a == 0 || a == 10 || a == 127 || (a == 100 && (64...127).contains(b)) || (a == 169 && b == 254)
                || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168)
                || (a == 192 && b == 0 && address[2] == 0)
                || (a == 198 && (b == 18 || b == 19)) || a >= 224
        }
        guard address.count == 16 else { return true }
        if address[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xff && address[11] == 0xff {
            return isPrivate(Array(address[12..<16]))  // ::ffff:a.b.c.d
        }
        // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last four bytes.
        if address[0] == 0x64 && address[1] == 0xff && address[2] == 0x9b { return isPrivate(Array(address[12..<16])) }
        // Multicast ff00::/8, unique local fc00::/7, link-local fe80::/10.
        return address[0] == 0xff || (address[0] & 0xfe) == 0xfc || (address[0] == 0xfe && (address[1] & 0xc0) == 0x80)
    }

    /// Audit details of an endpoint change: its host, scheme and whether the secret changed.
    public static func auditDetails(_ endpoint: WebhookEndpoint, secretChanged: Bool) -> [String: String] {
        let components = URLComponents(string: endpoint.url)
        return [
            "host": components?.host ?? "", "scheme": components?.scheme ?? "",
            "allowPrivate": String(endpoint.allowPrivate),
            "secretChanged": String(secretChanged), "secretOverlap": endpoint.previousSecret == nil ? "false" : "true",
        ]
    }
}
