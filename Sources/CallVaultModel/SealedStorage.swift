/// Where a recording's or transcript's sealed file is, when the data directory keeps its sealed files in
/// an object store (S3): the catalog's `storage` column. Nil (no value) means the file lives in the data
/// directory or its objects directory, as in the embedded default.
///
/// The order is the crash-safety argument: a node writes the file to its local spool (`spooled`), marks it
/// `uploading` before the first byte goes out, and marks it `stored` only after the object verified (size
/// and SHA-256); only then is the spool copy deleted. A crash at any step leaves a row whose spool copy
/// is still there, which the node's reconciler uploads again (`callvault objects reconcile`).
public enum SealedStorage: String, Sendable, Codable, CaseIterable {
    /// In the spool of the node that wrote it (its data directory), not yet uploaded.
    case spooled
    /// An upload began; the spool copy is kept until the object verified.
    case uploading
    /// In the object store, verified; no spool copy is kept.
    case stored
}
