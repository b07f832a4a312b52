public import Foundation

/// One sealed transcript of a call by one engine: the `transcripts` row.
///
/// Transcripts have their own retention (the tenant's `transcriptDays`), separate from voice.
public struct TranscriptRecord: Codable, Sendable, Equatable, Identifiable {
    /// `complete` while readable, `shredded` once its key was destroyed.
    public enum State: String, Sendable, Codable {
        case complete
        case shredded
    }

    public var id: String
    public var callId: String
    public var tenantId: String
    public var engine: String
    /// The sealed file's path, relative to the data directory.
    public var path: String
    public var state: State
    public var createdAt: Date
    public var expiresAt: Date
    public var shreddedAt: Date?
    /// Where the sealed file is when the directory keeps files in an object store; nil: in the data
    /// directory (or its objects directory).
    public var storage: SealedStorage?

    public init(
        id: String,
        callId: String,
        tenantId: String,
        engine: String,
        path: String,
        state: State = .complete,
        createdAt: Date,
        expiresAt: Date,
        shreddedAt: Date? = nil,
        storage: SealedStorage? = nil
    ) {
        self.id = id
        self.callId = callId
        self.tenantId = tenantId
        self.engine = engine
        self.path = path
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.shreddedAt = shreddedAt
        self.storage = storage
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case callId = "call_id"
        case tenantId = "tenant_id"
        case engine, path, state
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case shreddedAt = "shredded_at"
        case storage
    }
}
