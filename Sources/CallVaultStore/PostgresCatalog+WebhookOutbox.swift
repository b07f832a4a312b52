import CallVaultModel
import Foundation
import Logging
internal import PostgresNIO

extension PostgresCatalog {
    /// Writes `draft` to the outbox on `connection`, inside the transaction of the change it reports,
    /// when its tenant has an endpoint, due now by the database's clock (whatever time the change carries: a
    /// sweep run with `--now` ahead queues its events for now): one statement (`INSERT … SELECT … WHERE
    /// EXISTS`), so tenants without webhooks pay one short round trip. An event about a recording looks its
    /// call up first.
    static func enqueueWebhook(_ draft: WebhookEventDraft, on connection: PostgresConnection, at: Date, logger: Logger)
        async throws
    {
        let at = at.postgresPrecision
        var callID: String?
        switch draft.call {
        case .none: break
        case .call(let id): callID = id
        case .recording(let id):
            var configured = false
            for try await (exists, call) in try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = \(draft.tenantID)),
                    (SELECT call_id FROM recordings WHERE id = \(id))
                """,
                logger: logger
            ).decode((Bool, String?).self) {
                configured = exists
                callID = call
            }
            guard configured else { return }
        }
        let id = WebhookEventDraft.newID()
        let payload = draft.payload(callID: callID, at: at)
        var queued = false
        for try await _ in try await connection.query(
            """
            INSERT INTO webhook_outbox (id, tenant_id, call_id, type, payload, next_attempt_at, armed_at, created_at)
            SELECT \(id), \(draft.tenantID), \(callID), \(draft.type.rawValue), \(payload), now(), now(), now()
            WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = \(draft.tenantID))
            RETURNING id
            """,
            logger: logger
        ) {
            queued = true
        }
        if queued { Failpoint.webhookQueued.hit() }
    }
}
