public import CallVaultModel
public import Foundation
internal import PostgresNIO

/// The webhook outbox and endpoints in the shared PostgreSQL database (schema version 15), for serve
/// nodes on many machines: each claims due rows `FOR UPDATE SKIP LOCKED` and leases them, so no two nodes
/// send one row at once; a node that dies leaves its lease to run out and the row to another node.
public struct PostgresWebhookStore: WebhookStore {
    let catalog: PostgresCatalog

    init(catalog: PostgresCatalog) {
        self.catalog = catalog
    }

    static let deliveryColumns =
        "seq, id, tenant_id, call_id, type, payload, state, attempts, next_attempt_at, armed_at, last_error, created_at, delivered_at"

    public func endpoint(tenantID: String) async throws(CatalogError) -> WebhookEndpoint? {
        let catalog = self.catalog
        return try await catalog.perform("read the webhook endpoint of tenant \(tenantID)") {
            var found: WebhookEndpoint?
            for try await (url, allowPrivate, secretID, wrapped, previousID, previousWrapped, previousUntil, updated)
                in try await catalog
                .client.query(
                    """
                    SELECT url, allow_private, secret_id, secret_wrapped, previous_secret_id, previous_secret_wrapped,
                        previous_until, updated_at
                    FROM webhook_endpoints WHERE tenant_id = \(tenantID)
                    """,
                    logger: catalog.logger
                ).decode((String, Bool, String, Data, String?, Data?, Date?, Date).self)
            {
                found = WebhookEndpoint(
                    tenantId: tenantID,
                    url: url,
                    allowPrivate: allowPrivate,
                    secret: .init(id: secretID, wrapped: Array(wrapped)),
                    previousSecret: previousID.flatMap { id in previousWrapped.map { .init(id: id, wrapped: Array($0)) }
                    },
                    previousUntil: previousUntil?.postgresPrecision,
                    updatedAt: updated.postgresPrecision
                )
            }
            return found
        }
    }

    public func setEndpoint(_ endpoint: WebhookEndpoint, actor: String, at: Date) async throws(CatalogError) {
        try WebhookURLCheck.checkSyntax(endpoint.url, allowPrivate: endpoint.allowPrivate)
        let at = at.postgresPrecision
        let catalog = self.catalog
        try await catalog.transaction("set the webhook endpoint of tenant \(endpoint.tenantId)") { connection in
            var exists = false
            for try await _ in try await connection.query(
                "SELECT id FROM tenants WHERE id = \(endpoint.tenantId) FOR UPDATE",
                logger: catalog.logger
            ) {
                exists = true
            }
            guard exists else { throw CatalogError(.notFound, "no tenant with id \(endpoint.tenantId)") }
            var before: String?
            for try await id in try await connection.query(
                "SELECT secret_id FROM webhook_endpoints WHERE tenant_id = \(endpoint.tenantId)",
                logger: catalog.logger
            ).decode(String.self) {
                before = id
            }
            try await connection.query(
                """
                INSERT INTO webhook_endpoints (tenant_id, url, allow_private, secret_id, secret_wrapped, previous_secret_id,
                    previous_secret_wrapped, previous_until, updated_at)
                VALUES (\(endpoint.tenantId), \(endpoint.url), \(endpoint.allowPrivate), \(endpoint.secret.id),
                    \(Data(endpoint.secret.wrapped)), \(endpoint.previousSecret?.id), \(endpoint.previousSecret.map { Data($0.wrapped) }),
                    \(endpoint.previousUntil?.postgresPrecision), \(at))
                ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, allow_private = excluded.allow_private,
                    secret_id = excluded.secret_id, secret_wrapped = excluded.secret_wrapped,
                    previous_secret_id = excluded.previous_secret_id, previous_secret_wrapped = excluded.previous_secret_wrapped,
                    previous_until = excluded.previous_until, updated_at = excluded.updated_at
                """,
                logger: catalog.logger
            )
            try await catalog.appendAudit(
                AuditEvent(
                    actor: actor,
                    action: .webhookConfigured,
                    tenantID: endpoint.tenantId,
                    subjectID: endpoint.tenantId,
                    details: WebhookURLCheck.auditDetails(endpoint, secretChanged: before != endpoint.secret.id),
                    at: at
                ),
                on: connection
            )
        }
    }

    public func removeEndpoint(tenantID: String, actor: String, at: Date) async throws(CatalogError) {
        let at = at.postgresPrecision
        let catalog = self.catalog
        try await catalog.transaction("remove the webhook endpoint of tenant \(tenantID)") { connection in
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM webhook_endpoints WHERE tenant_id = \(tenantID) RETURNING tenant_id",
                logger: catalog.logger
            ) {
                removed = true
            }
            guard removed else { throw CatalogError(.notFound, "tenant \(tenantID) has no webhook endpoint") }
            try await connection.query(
                """
                UPDATE webhook_outbox SET state = 'dead', last_error = 'endpoint removed', lease_owner = NULL,
                    lease_expires_at = NULL
                WHERE tenant_id = \(tenantID) AND state = 'pending'
                """,
                logger: catalog.logger
            )
            try await catalog.appendAudit(
                AuditEvent(actor: actor, action: .webhookRemoved, tenantID: tenantID, subjectID: tenantID, at: at),
                on: connection
            )
        }
    }

    public func claim(owner: String, limit: Int, lease: Duration) async throws(CatalogError) -> [WebhookDelivery] {
        let seconds = WebhookRetryPolicy.seconds(lease)
        let catalog = self.catalog
        return try await catalog.perform("claim webhook deliveries") {
            // The oldest due rows by the database's clock, skipping rows another node is claiming; a row waits
            // while an earlier row of its call is pending (leased or not), so a call's events go out in order.
            let rows = try await catalog.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH due AS (
                            SELECT o.seq FROM webhook_outbox o
                            WHERE o.state = 'pending' AND o.next_attempt_at <= now()
                                AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= now())
                                AND (o.call_id IS NULL OR NOT EXISTS (
                                    SELECT 1 FROM webhook_outbox p
                                    WHERE p.call_id = o.call_id AND p.state = 'pending' AND p.seq < o.seq))
                            ORDER BY o.seq LIMIT $1
                            FOR UPDATE SKIP LOCKED)
                        UPDATE webhook_outbox w SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
                            attempts = w.attempts + 1
                        FROM due WHERE w.seq = due.seq
                        RETURNING \(Self.deliveryColumns.split(separator: ",").map { "w." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                        """,
                    binds: try PostgresCatalog.binds(limit, owner, seconds)
                ),
                logger: catalog.logger
            )
            return try await Self.deliveries(rows).sorted { $0.sequence < $1.sequence }
        }
    }

    public func markDelivered(id: String, owner: String) async throws(CatalogError) -> Bool {
        let catalog = self.catalog
        return try await catalog.perform("mark webhook event \(id) delivered") {
            var changed = false
            for try await _ in try await catalog.client.query(
                """
                UPDATE webhook_outbox SET state = 'delivered', delivered_at = now(), last_error = NULL,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND state = 'pending' AND lease_owner = \(owner)
                RETURNING id
                """,
                logger: catalog.logger
            ) {
                changed = true
            }
            return changed
        }
    }

    public func markFailed(id: String, owner: String, error: String, retryAfter: Duration?)
        async throws(CatalogError) -> Bool
    {
        let catalog = self.catalog
        let state = retryAfter == nil ? "dead" : "pending"
        let delay = retryAfter.map(WebhookRetryPolicy.seconds)
        let message = String(error.prefix(500))
        return try await catalog.perform("record a failed delivery of webhook event \(id)") {
            var changed = false
            for try await _ in try await catalog.client.query(
                """
                UPDATE webhook_outbox SET state = \(state), next_attempt_at = COALESCE(now() + make_interval(secs => \(delay)), next_attempt_at),
                    last_error = \(message), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND state = 'pending' AND lease_owner = \(owner)
                RETURNING id
                """,
                logger: catalog.logger
            ) {
                changed = true
            }
            return changed
        }
    }

    public func redeliver(id: String) async throws(CatalogError) -> WebhookDelivery {
        let catalog = self.catalog
        let found: WebhookDelivery? = try await catalog.perform("redeliver webhook event \(id)") {
            try await Self.deliveries(
                catalog.client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            UPDATE webhook_outbox SET state = 'pending', next_attempt_at = now(), armed_at = now(),
                                attempts = 0, lease_owner = NULL, lease_expires_at = NULL
                            WHERE id = $1 AND state IN ('delivered', 'dead')
                            RETURNING \(Self.deliveryColumns)
                            """,
                        binds: try PostgresCatalog.binds(id)
                    ),
                    logger: catalog.logger
                )
            ).first
        }
        guard let found else {
            throw CatalogError(.invalidArgument, "webhook event \(id) is unknown, or still pending")
        }
        return found
    }

    public func deliveries(tenantID: String?, state: WebhookDeliveryState?, limit: Int) async throws(CatalogError)
        -> [WebhookDelivery]
    {
        let catalog = self.catalog
        return try await catalog.perform("list webhook deliveries") {
            try await Self.deliveries(
                catalog.client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(Self.deliveryColumns) FROM webhook_outbox
                            WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR state = $2)
                            ORDER BY seq DESC LIMIT $3
                            """,
                        binds: try PostgresCatalog.binds(tenantID, state?.rawValue, max(0, limit))
                    ),
                    logger: catalog.logger
                )
            )
        }
    }

    public func pendingCount() async throws(CatalogError) -> Int {
        let catalog = self.catalog
        return try await catalog.perform("count pending webhook deliveries") {
            var count = 0
            for try await n in try await catalog.client.query(
                "SELECT count(*) FROM webhook_outbox WHERE state = 'pending'",
                logger: catalog.logger
            ).decode(Int.self) {
                count = n
            }
            return count
        }
    }

    static func deliveries(_ rows: PostgresRowSequence) async throws -> [WebhookDelivery] {
        var found: [WebhookDelivery] = []
        for try await (
            seq, id, tenantID, callID, type, payload, stateText, attempts, next, armed, lastError, created, delivered
        )
            in rows.decode(
                (Int64, String, String, String?, String, String, String, Int, Date, Date, String?, Date, Date?).self
            )
        {
            guard let state = WebhookDeliveryState(rawValue: stateText) else {
                throw CatalogError(.databaseFailure, "webhook_outbox row \(id) has an unknown state \(stateText)")
            }
            found.append(
                WebhookDelivery(
                    id: id,
                    sequence: seq,
                    tenantId: tenantID,
                    callId: callID,
                    type: WebhookEventType(rawValue: type),
                    payload: payload,
                    state: state,
                    attempts: attempts,
                    nextAttemptAt: next.postgresPrecision,
                    armedAt: armed.postgresPrecision,
                    lastError: lastError,
                    createdAt: created.postgresPrecision,
                    deliveredAt: delivered?.postgresPrecision
                )
            )
        }
        return found
    }
}
