public import Foundation

/// One phone call of one tenant: the `calls` row.
///
/// The caller's number is never stored in plaintext: `callerHash` is HMAC-SHA-256 under the
/// tenant's phone-hash key (so data-subject requests can find a caller's calls, and the same number
/// hashes differently for two tenants), and `callerEncrypted` is reserved for a sealed copy.
public struct CallRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var tenantId: String
    /// The provider's id for the call (Twilio `callSid`, AudioSocket UUID, …), unique per tenant.
    public var externalId: String
    public var startedAt: Date
    public var endedAt: Date?
    public var callerHash: Data?
    public var callerEncrypted: Data?

    public init(
        id: String,
        tenantId: String,
        externalId: String,
        startedAt: Date,
        endedAt: Date? = nil,
        callerHash: Data? = nil,
        callerEncrypted: Data? = nil
    ) {
        self.id = id
        self.tenantId = tenantId
        self.externalId = externalId
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.callerHash = callerHash
        self.callerEncrypted = callerEncrypted
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case tenantId = "tenant_id"
        case externalId = "external_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case callerHash = "caller_hash"
        case callerEncrypted = "caller_encrypted"
    }
}
