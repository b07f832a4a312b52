import Metrics

/// The dispatcher's Prometheus series: deliveries by outcome (`delivered`, `retried`, `dead`), and the
/// rows still pending (across nodes, read from the outbox each pass).
struct WebhookMetrics: Sendable {
    let delivered = Counter(label: "callvault_webhook_deliveries_total", dimensions: [("outcome", "delivered")])
    let retried = Counter(label: "callvault_webhook_deliveries_total", dimensions: [("outcome", "retried")])
    let dead = Counter(label: "callvault_webhook_deliveries_total", dimensions: [("outcome", "dead")])
    let pending = Gauge(label: "callvault_webhook_pending")
}
