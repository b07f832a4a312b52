public import CallVaultModel
public import Foundation
internal import GRDB

/// The webhook outbox and endpoints in the embedded SQLite catalog (`webhook_outbox`,
/// `webhook_endpoints`, migration v14). One node: claims are serialised by the catalog's writer, and a
/// lease still guards against a second process on the same directory.
public struct SQLiteWebhookStore: WebhookStore {
    public let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public func endpoint(tenantID: String) async throws(CatalogError) -> WebhookEndpoint? {
        try catalog.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM webhook_endpoints WHERE tenant_id = ?", arguments: [tenantID])
                .map(Self.endpoint(from:))
        }
    }

    public func setEndpoint(_ endpoint: WebhookEndpoint, actor: String, at: Date) async throws(CatalogError) {
        try WebhookURLCheck.checkSyntax(endpoint.url, allowPrivate: endpoint.allowPrivate)
        let at = at.catalogPrecision
        try catalog.write { db in
            guard
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?)",
                    arguments: [endpoint.tenantId]
                ) == true
            else { throw CatalogError(.notFound, "no tenant with id \(endpoint.tenantId)") }
            let before = try String.fetchOne(
                db,
                sql: "SELECT secret_id FROM webhook_endpoints WHERE tenant_id = ?",
                arguments: [endpoint.tenantId]
            )
            try db.execute(
                sql: """
                    INSERT INTO webhook_endpoints (tenant_id, url, allow_private, secret_id, secret_wrapped,
                        previous_secret_id, previous_secret_wrapped, previous_until, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, allow_private = excluded.allow_private,
                        secret_id = excluded.secret_id, secret_wrapped = excluded.secret_wrapped,
                        previous_secret_id = excluded.previous_secret_id,
                        previous_secret_wrapped = excluded.previous_secret_wrapped,
                        previous_until = excluded.previous_until, updated_at = excluded.updated_at
                    """,
                arguments: [
                    endpoint.tenantId, endpoint.url, endpoint.allowPrivate, endpoint.secret.id,
                    Data(endpoint.secret.wrapped),
                    endpoint.previousSecret?.id, endpoint.previousSecret.map { Data($0.wrapped) },
                    endpoint.previousUntil?.catalogPrecision, at,
                ]
            )
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .webhookConfigured,
                tenantID: endpoint.tenantId,
                subjectID: endpoint.tenantId,
                details: WebhookURLCheck.auditDetails(endpoint, secretChanged: before != endpoint.secret.id),
                at: at
            )
        }
    }

    public func removeEndpoint(tenantID: String, actor: String, at: Date) async throws(CatalogError) {
        let at = at.catalogPrecision
        try catalog.write { db in
            try db.execute(sql: "DELETE FROM webhook_endpoints WHERE tenant_id = ?", arguments: [tenantID])
            guard db.changesCount == 1 else {
                throw CatalogError(.notFound, "tenant \(tenantID) has no webhook endpoint")
            }
            try db.execute(
                sql: """
                    UPDATE webhook_outbox SET state = 'dead', last_error = 'endpoint removed', lease_owner = NULL,
                        lease_expires_at = NULL
                    WHERE tenant_id = ? AND state = 'pending'
                    """,
                arguments: [tenantID]
            )
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .webhookRemoved,
                tenantID: tenantID,
                subjectID: tenantID,
                at: at
            )
        }
    }

    public func claim(owner: String, limit: Int, lease: Duration) async throws(CatalogError) -> [WebhookDelivery] {
        let now = Date().catalogPrecision
        let until = now.addingTimeInterval(WebhookRetryPolicy.seconds(lease)).catalogPrecision
        return try catalog.write { db in
            // The oldest due rows; a row waits while an earlier row of its call is pending (per-call order).
            let seqs = try Int64.fetchAll(
                db,
                sql: """
                    SELECT o.seq FROM webhook_outbox o
                    WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                        AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= ?)
                        AND (o.call_id IS NULL OR NOT EXISTS (
                            SELECT 1 FROM webhook_outbox p
                            WHERE p.call_id = o.call_id AND p.state = 'pending' AND p.seq < o.seq))
                    ORDER BY o.seq LIMIT ?
                    """,
                arguments: [now, now, limit]
            )
            var claimed: [WebhookDelivery] = []
            for seq in seqs {
                try db.execute(
                    sql: """
                        UPDATE webhook_outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
                        WHERE seq = ?
                        """,
                    arguments: [owner, until, seq]
                )
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM webhook_outbox WHERE seq = ?", arguments: [seq]) {
                    claimed.append(try Self.delivery(from: row))
                }
            }
            return claimed
        }
    }

    public func markDelivered(id: String, owner: String) async throws(CatalogError) -> Bool {
        let at = Date()
        return try catalog.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_outbox SET state = 'delivered', delivered_at = ?, last_error = NULL, lease_owner = NULL,
                        lease_expires_at = NULL
                    WHERE id = ? AND state = 'pending' AND lease_owner = ?
                    """,
                arguments: [at.catalogPrecision, id, owner]
            )
            return db.changesCount == 1
        }
    }

    public func markFailed(id: String, owner: String, error: String, retryAfter: Duration?)
        async throws(CatalogError) -> Bool
    {
        let retryAt = retryAfter.map { Date().addingTimeInterval(WebhookRetryPolicy.seconds($0)) }
        return try catalog.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_outbox SET state = ?, next_attempt_at = COALESCE(?, next_attempt_at), last_error = ?,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND state = 'pending' AND lease_owner = ?
                    """,
                arguments: [
                    retryAt == nil ? "dead" : "pending", retryAt?.catalogPrecision, String(error.prefix(500)), id,
                    owner,
                ]
            )
            return db.changesCount == 1
        }
    }

    public func redeliver(id: String) async throws(CatalogError) -> WebhookDelivery {
        let at = Date().catalogPrecision
        return try catalog.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_outbox SET state = 'pending', next_attempt_at = ?, armed_at = ?, attempts = 0,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND state IN ('delivered', 'dead')
                    """,
                arguments: [at, at, id]
            )
            guard db.changesCount == 1,
                let row = try Row.fetchOne(db, sql: "SELECT * FROM webhook_outbox WHERE id = ?", arguments: [id])
            else {
                throw CatalogError(.invalidArgument, "webhook event \(id) is unknown, or still pending")
            }
            return try Self.delivery(from: row)
        }
    }

    public func deliveries(tenantID: String?, state: WebhookDeliveryState?, limit: Int) async throws(CatalogError)
        -> [WebhookDelivery]
    {
        try catalog.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM webhook_outbox WHERE (? IS NULL OR tenant_id = ?) AND (? IS NULL OR state = ?)
                    ORDER BY seq DESC LIMIT ?
                    """,
                arguments: [tenantID, tenantID, state?.rawValue, state?.rawValue, max(0, limit)]
            ).map(Self.delivery(from:))
        }
    }

    public func pendingCount() async throws(CatalogError) -> Int {
        try catalog.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_outbox WHERE state = 'pending'") ?? 0
        }
    }

    static func endpoint(from row: Row) -> WebhookEndpoint {
        let previousID: String? = row["previous_secret_id"]
        let previousWrapped: Data? = row["previous_secret_wrapped"]
        return WebhookEndpoint(
            tenantId: row["tenant_id"],
            url: row["url"],
            allowPrivate: row["allow_private"],
            secret: .init(id: row["secret_id"], wrapped: Array(row["secret_wrapped"] as Data)),
            previousSecret: previousID.flatMap { id in previousWrapped.map { .init(id: id, wrapped: Array($0)) } },
            previousUntil: row["previous_until"],
            updatedAt: row["updated_at"]
        )
    }

    static func delivery(from row: Row) throws -> WebhookDelivery {
        let stateText: String = row["state"]
        guard let state = WebhookDeliveryState(rawValue: stateText) else {
            throw CatalogError(
                .databaseFailure,
                "webhook_outbox row \(row["id"] as String) has an unknown state \(stateText)"
            )
        }
        return WebhookDelivery(
            id: row["id"],
            sequence: row["seq"],
            tenantId: row["tenant_id"],
            callId: row["call_id"],
            type: WebhookEventType(rawValue: row["type"]),
            payload: row["payload"],
            state: state,
            attempts: row["attempts"],
            nextAttemptAt: row["next_attempt_at"],
            armedAt: row["armed_at"],
            lastError: row["last_error"],
            createdAt: row["created_at"],
            deliveredAt: row["delivered_at"]
        )
    }
}
