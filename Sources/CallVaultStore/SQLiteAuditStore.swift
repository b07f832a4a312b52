public import CallVaultModel
import Foundation

/// The audit log in the embedded SQLite catalog (``AuditLog``: the `audit_log` table, its append-only
/// triggers and hash chain), behind the ``AuditStore`` interface, unchanged.
///
/// Each append is one short local write transaction, run inline; the catalog's writes are serialised,
/// which is what keeps the chain from forking. The catalog's own operations that record an action with
/// its evidence keep appending inside their transaction.
public struct SQLiteAuditStore: AuditStore {
    public let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public func append(_ event: AuditEvent) async throws(AuditStoreError) -> AuditEntry {
        try run { () throws(CatalogError) in
            try catalog.auditLog.append(
                actor: event.actor,
                action: event.action,
                tenantID: event.tenantID,
                subjectID: event.subjectID,
                details: event.details,
                at: event.at
            )
        }
    }

    public func entries(tenantID: String?, afterSeq: Int64, limit: Int?) async throws(AuditStoreError) -> [AuditEntry] {
        try AuditStoreArguments.check(limit: limit)
        return try run { () throws(CatalogError) in
            try catalog.auditLog.entries(tenantID: tenantID, afterSeq: afterSeq, limit: limit)
        }
    }

    public func entries(matching query: AuditEntryQuery) async throws(AuditStoreError) -> [AuditEntry] {
        try AuditStoreArguments.check(limit: query.limit)
        return try run { () throws(CatalogError) in try catalog.auditLog.entries(matching: query) }
    }

    public func verify() async throws(AuditStoreError) -> AuditVerification {
        try run { () throws(CatalogError) in try catalog.auditLog.verify() }
    }

    /// Runs a catalog operation, turning its error into the audit store's.
    private func run<T>(_ body: () throws(CatalogError) -> T) throws(AuditStoreError) -> T {
        do { return try body() } catch { throw AuditStoreError(error) }
    }
}

/// Argument checks both audit backends make, so they refuse the same calls alike.
enum AuditStoreArguments {
    static func check(limit: Int?) throws(AuditStoreError) {
        if let limit, limit < 0 {
            throw AuditStoreError(.invalidArgument, "a limit of audit entries must be 0 or more, not \(limit)")
        }
    }
}
