/// Where an outbox row is: waiting (first try or a retry after backoff), acknowledged by the receiver
/// with a 2xx, or given up after the retry policy (dead-lettered; `callvault webhooks redeliver` re-arms it).
public enum WebhookDeliveryState: String, Sendable, Codable, CaseIterable {
    case pending
    case delivered
    case dead
}
