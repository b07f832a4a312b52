import Metrics

/// The control API's own counters (exported at `/metrics` with the ingest socket's).
struct ControlAPIMetrics: Sendable {
    /// Requests that carried a token no tenant has (Bearer header, or `?token=` on a media path).
    let tokenFailures = Counter(label: "callvault_api_token_failures_total")
    /// Requests refused with 429 because their source address sent too many unknown tokens.
    let tokenThrottled = Counter(label: "callvault_api_token_throttled_total")
    /// Requests refused with 429 because their tenant went over `serve --api-rate`.
    let rateLimited = Counter(label: "callvault_api_rate_limited_total")
    /// Requests refused with 403 because their tenant pins client certificates and none of them was
    /// presented (counted with the media streams refused for it, as `tls.clientCertRefused`).
    let clientCertificateRefused = Counter(
        label: "callvault_protocol_errors_total", dimensions: [("kind", "tls.clientCertRefused")])
}
