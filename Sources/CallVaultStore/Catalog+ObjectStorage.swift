public import CallVaultModel
internal import GRDB

extension Catalog {
    /// Closed recordings and transcripts whose files are `spooled` or `uploading`, oldest first.
    public func filesAwaitingUpload(limit: Int) throws(CatalogError) -> [SpooledFile] {
        try read { db in
            var files: [SpooledFile] = []
            let recordings = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, tenant_id, path, storage FROM recordings
                    WHERE storage IN ('spooled', 'uploading') AND state IN ('complete', 'interrupted')
                    ORDER BY created_at, id LIMIT ?
                    """, arguments: [limit])
            let transcripts = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, tenant_id, path, storage FROM transcripts
                    WHERE storage IN ('spooled', 'uploading') AND state = 'complete'
                    ORDER BY created_at, id LIMIT ?
                    """, arguments: [limit])
            for (kind, rows) in [(SpooledFile.Kind.recording, recordings), (.transcript, transcripts)] {
                for row in rows {
                    let value: String = row["storage"]
                    guard let storage = SealedStorage(rawValue: value) else { continue }
                    files.append(
                        SpooledFile(kind: kind, id: row["id"], tenantID: row["tenant_id"], path: row["path"], storage: storage))
                }
            }
            return files
        }
    }

    /// Compare-and-set of a row's storage state; false when it was not in `from` (or is shredded).
    public func setStorage(of kind: SpooledFile.Kind, id: String, to: SealedStorage, from: Set<SealedStorage>)
        throws(CatalogError) -> Bool
    {
        let table = kind == .recording ? "recordings" : "transcripts"
        let states = from.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        return try write { db in
            try db.execute(
                sql: "UPDATE \(table) SET storage = ? WHERE id = ? AND state != 'shredded' AND storage IN (\(states))",
                arguments: [to.rawValue, id])
            return db.changesCount == 1
        }
    }
}
