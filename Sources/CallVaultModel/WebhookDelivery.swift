public import Foundation

/// One event in the webhook outbox: what is sent (the JSON body, ids and metadata only), to which
/// tenant, and how its delivery goes.
public struct WebhookDelivery: Sendable, Codable, Equatable, Identifiable {
    /// The Standard Webhooks `webhook-id` (`msg_…`): the same on every retry, so receivers can deduplicate.
    public let id: String
    /// The outbox order; a call's events are sent in this order.
    public let sequence: Int64
    public let tenantId: String
    /// The call the event is about, when it is about one (events of one call are delivered in order).
    public let callId: String?
    public let type: WebhookEventType
    /// The request body, exactly as signed and sent.
    public let payload: String
    public var state: WebhookDeliveryState
    public var attempts: Int
    public var nextAttemptAt: Date
    /// When its give-up clock started: creation, or the last `webhooks redeliver`.
    public var armedAt: Date
    /// Why the last attempt failed (status code or transport error; never the receiver's body).
    public var lastError: String?
    public let createdAt: Date
    public var deliveredAt: Date?

    public init(
        id: String,
        sequence: Int64,
        tenantId: String,
        callId: String?,
        type: WebhookEventType,
        payload: String,
        state: WebhookDeliveryState,
        attempts: Int,
        nextAttemptAt: Date,
        armedAt: Date,
        lastError: String?,
        createdAt: Date,
        deliveredAt: Date?
    ) {
        self.id = id
        self.sequence = sequence
        self.tenantId = tenantId
        self.callId = callId
        self.type = type
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.armedAt = armedAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}
