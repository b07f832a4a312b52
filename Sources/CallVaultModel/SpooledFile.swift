/// A sealed file the catalog says is not (yet, or not verified) in the object store: what a node's
/// reconciler uploads when the file is in its spool.
public struct SpooledFile: Sendable, Equatable {
    /// Which table the row is in.
    public enum Kind: String, Sendable, Codable {
        case recording, transcript
    }

    public let kind: Kind
    public let id: String
    public let tenantID: String
    /// The first part's path relative to the data directory, which is also its object key.
    public let path: String
    public let storage: SealedStorage

    public init(kind: Kind, id: String, tenantID: String, path: String, storage: SealedStorage) {
        self.kind = kind
        self.id = id
        self.tenantID = tenantID
        self.path = path
        self.storage = storage
    }
}
