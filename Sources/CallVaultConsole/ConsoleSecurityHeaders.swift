/// The headers every console response carries, whatever the page.
///
/// A strict Content-Security-Policy (`default-src 'self'`: no inline script or style, no third-party
/// asset, no framing), no MIME sniffing, no referrer, and `Cache-Control: no-store` on everything but
/// the stylesheet: pages carry transcripts and audio, which must not stay in a browser or proxy cache.
enum ConsoleSecurityHeaders {
    static let contentSecurityPolicy =
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

    static func headers(forPath path: String, tls: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            ("content-security-policy", contentSecurityPolicy),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
        ]
        headers.append(("cache-control", path.hasPrefix("/static/") ? "public, max-age=3600" : "no-store"))
        if tls { headers.append(("strict-transport-security", "max-age=31536000")) }
        return headers
    }
}
