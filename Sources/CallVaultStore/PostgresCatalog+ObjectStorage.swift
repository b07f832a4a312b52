public import CallVaultModel
import Foundation
internal import PostgresNIO

/// The storage states of sealed files on PostgreSQL, as on SQLite (`Catalog+ObjectStorage.swift`).
extension PostgresCatalog {
    public func filesAwaitingUpload(limit: Int) async throws(CatalogError) -> [SpooledFile] {
        try await perform("list the sealed files awaiting upload") {
            var files: [SpooledFile] = []
            let rows = try await self.client.query(
                """
                (SELECT 'recording', id, tenant_id, path, storage, created_at FROM recordings
                    WHERE storage IN ('spooled', 'uploading') AND state IN ('complete', 'interrupted')
                    ORDER BY created_at, id COLLATE "C" LIMIT \(limit))
                UNION ALL
                (SELECT 'transcript', id, tenant_id, path, storage, created_at FROM transcripts
                    WHERE storage IN ('spooled', 'uploading') AND state = 'complete'
                    ORDER BY created_at, id COLLATE "C" LIMIT \(limit))
                """, logger: self.logger)
            for try await (kind, id, tenantID, path, storage, _) in rows.decode(
                (String, String, String, String, String, Date).self)
            {
                guard let kind = SpooledFile.Kind(rawValue: kind), let storage = SealedStorage(rawValue: storage) else {
                    continue
                }
                files.append(SpooledFile(kind: kind, id: id, tenantID: tenantID, path: path, storage: storage))
            }
            return files
        }
    }

    public func setStorage(of kind: SpooledFile.Kind, id: String, to: SealedStorage, from: Set<SealedStorage>)
        async throws(CatalogError) -> Bool
    {
        let table = kind == .recording ? "recordings" : "transcripts"
        let states = from.map(\.rawValue).sorted()
        return try await perform("set the storage of \(kind.rawValue) \(id)") {
            var changed = false
            for try await _ in try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(table) SET storage = $1 WHERE id = $2 AND state <> 'shredded' AND storage = ANY($3)
                        RETURNING id
                        """, binds: try Self.binds(to.rawValue, id, states)), logger: self.logger)
            {
                changed = true
            }
            return changed
        }
    }
}
