public import CallVaultModel
public import Foundation

/// The webhook outbox and the tenants' endpoints, whatever stores them (the SQLite catalog or the
/// shared PostgreSQL database), reached through ``CatalogStore/webhooks``.
///
/// Rows are written by the catalog's own operations, in the transaction of the change they report
/// (``WebhookEventDraft``), and only for tenants with an endpoint. A dispatcher claims due rows with a
/// lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so nodes never send one row twice at once), and
/// never claims a call's event while an earlier event of the same call is still pending: a call's
/// events arrive in order. Delivery is at least once: a node that dies mid-send leaves the lease to
/// run out and the row to be sent again, under the same `webhook-id`.
public protocol WebhookStore: Sendable {
    /// The tenant's endpoint, or nil when it has none.
    func endpoint(tenantID: String) async throws(CatalogError) -> WebhookEndpoint?
    /// Sets (or replaces) a tenant's endpoint, audited (`webhook.configured`: host and whether the secret
    /// changed, never the secret or the URL's path and query).
    func setEndpoint(_ endpoint: WebhookEndpoint, actor: String, at: Date) async throws(CatalogError)
    /// Removes a tenant's endpoint; its pending rows are dead-lettered (`endpoint removed`), audited.
    func removeEndpoint(tenantID: String, actor: String, at: Date) async throws(CatalogError)

    /// Claims up to `limit` due rows for `owner` for `lease`, counting the attempt: the oldest first,
    /// none of a call whose earlier event is still pending. Due times and leases are judged by the
    /// database's clock on PostgreSQL (`now()`), so nodes with skewed clocks agree; by this process's on SQLite.
    func claim(owner: String, limit: Int, lease: Duration) async throws(CatalogError) -> [WebhookDelivery]
    /// Marks a claimed row delivered; false when `owner` no longer holds it (its lease ran out).
    func markDelivered(id: String, owner: String) async throws(CatalogError) -> Bool
    /// Records a failed attempt of a claimed row: pending again after `retryAfter`, or dead when nil.
    func markFailed(id: String, owner: String, error: String, retryAfter: Duration?) async throws(CatalogError) -> Bool
    /// Puts a delivered or dead row back in the queue now, with its give-up clock restarted.
    func redeliver(id: String) async throws(CatalogError) -> WebhookDelivery
    /// Rows newest first, optionally one tenant's or in one state, at most `limit`.
    func deliveries(tenantID: String?, state: WebhookDeliveryState?, limit: Int) async throws(CatalogError)
        -> [WebhookDelivery]
    /// How many rows are pending (the `callvault_webhook_pending` gauge).
    func pendingCount() async throws(CatalogError) -> Int
}
