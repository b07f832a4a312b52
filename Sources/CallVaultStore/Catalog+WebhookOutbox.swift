import CallVaultModel
import Foundation
internal import GRDB

extension Catalog {
    /// Writes `draft` to the outbox inside the caller's write transaction, when its tenant has an
    /// endpoint (one indexed lookup otherwise, so tenants without webhooks pay next to nothing).
    ///
    /// Called from the audit append (``AuditLog``) and from the unaudited changes that report an event, so
    /// the row commits or rolls back with the change. The `webhook.queued` failpoint kills the process
    /// here, after the row and before the commit, to prove that.
    static func enqueueWebhook(_ draft: WebhookEventDraft, in db: Database, at: Date) throws {
        let configured =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = ?)"),
                arguments: [draft.tenantID]
            ) ?? false
        guard configured else { return }
        let callID: String?
        switch draft.call {
        case .none: callID = nil
        case .call(let id): callID = id
        case .recording(let id):
            callID = try String.fetchOne(
                db.cachedStatement(sql: "SELECT call_id FROM recordings WHERE id = ?"),
                arguments: [id]
            )
        }
        let at = at.catalogPrecision
        // Due now by the wall clock, whatever time the change carries (a sweep run with `--now` in the future).
        let now = Date().catalogPrecision
        try db.cachedStatement(
            sql: """
                INSERT INTO webhook_outbox (id, tenant_id, call_id, type, payload, next_attempt_at, armed_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            WebhookEventDraft.newID(), draft.tenantID, callID, draft.type.rawValue,
            draft.payload(callID: callID, at: at),
            now, now, now,
        ])
        Failpoint.webhookQueued.hit()
    }
}
