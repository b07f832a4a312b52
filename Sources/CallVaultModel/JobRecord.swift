public import Foundation

/// One transcription job in the leased queue: the `jobs` row.
///
/// A worker claims a job by setting `leaseOwner` and `leaseExpiresAt`; if it crashes the lease runs
/// out and another worker takes it. Failures bump `attempts` and push `runAfter` back (backoff) until
/// the limit, then the job is `dead` with its `lastError`. A job is unique per call and engine, so
/// queuing the same work twice is harmless.
public struct JobRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var callId: String
    public var recordingId: String?
    public var tenantId: String
    public var engine: String
    public var state: JobState
    public var priority: Int
    public var attempts: Int
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var runAfter: Date
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        callId: String,
        recordingId: String? = nil,
        tenantId: String,
        engine: String,
        state: JobState = .queued,
        priority: Int = 0,
        attempts: Int = 0,
        leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil,
        runAfter: Date,
        lastError: String? = nil,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.callId = callId
        self.recordingId = recordingId
        self.tenantId = tenantId
        self.engine = engine
        self.state = state
        self.priority = priority
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.runAfter = runAfter
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case callId = "call_id"
        case recordingId = "recording_id"
        case tenantId = "tenant_id"
        case engine, state, priority, attempts
        case leaseOwner = "lease_owner"
        case leaseExpiresAt = "lease_expires_at"
        case runAfter = "run_after"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
