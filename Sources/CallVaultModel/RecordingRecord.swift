public import Foundation

/// One sealed recording of one track of a call: the `recordings` row.
///
/// `codec` is the concrete codec the file was written in (never ``StorageCodec/native``: the
/// recorder resolves that to what the call arrived in). `expiresAt` is fixed when the recording is
/// created from the tenant's policy then; `hold` keeps it from being shredded; `restricted`
/// marks it as subject to a data-subject restriction (it may be kept but not processed).
public struct RecordingRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var callId: String
    public var tenantId: String
    public var track: RecordingTrack
    public var state: RecordingState
    public var codec: StorageCodec
    public var sampleRate: Int
    public var durationMs: Int64
    public var bytes: Int64
    public var createdAt: Date
    public var expiresAt: Date
    public var hold: Bool
    public var holdReason: String?
    public var restricted: Bool
    /// The sealed file's path, relative to the data directory.
    public var path: String
    public var shreddedAt: Date?
    /// The `callvault serve` node that recorded it (its id, the name of its lease in `service_leases`):
    /// while the recording is open, another node recovers it only once that lease has run out. Nil for
    /// recordings made by a tool (`_record-sample`) or before nodes owned their recordings.
    public var node: String?
    /// Where the sealed file is when the directory keeps files in an object store; nil: in the data
    /// directory (or its objects directory).
    public var storage: SealedStorage?
    /// For a redacted copy: the recording whose audio it holds with spans silenced (shredded once the copy
    /// was verified). Nil for a recording made by the recorder.
    public var redactedFrom: String?
    /// For a redacted copy: what was silenced, and whether the copy checked out.
    public var redaction: RecordingRedaction?

    public init(
        id: String,
        callId: String,
        tenantId: String,
        track: RecordingTrack,
        state: RecordingState = .recording,
        codec: StorageCodec,
        sampleRate: Int,
        durationMs: Int64 = 0,
        bytes: Int64 = 0,
        createdAt: Date,
        expiresAt: Date,
        hold: Bool = false,
        holdReason: String? = nil,
        restricted: Bool = false,
        path: String,
        shreddedAt: Date? = nil,
        node: String? = nil,
        storage: SealedStorage? = nil,
        redactedFrom: String? = nil,
        redaction: RecordingRedaction? = nil
    ) {
        self.id = id
        self.callId = callId
        self.tenantId = tenantId
        self.track = track
        self.state = state
        self.codec = codec
        self.sampleRate = sampleRate
        self.durationMs = durationMs
        self.bytes = bytes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.hold = hold
        self.holdReason = holdReason
        self.restricted = restricted
        self.path = path
        self.shreddedAt = shreddedAt
        self.node = node
        self.storage = storage
        self.redactedFrom = redactedFrom
        self.redaction = redaction
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case callId = "call_id"
        case tenantId = "tenant_id"
        case track, state, codec
        case sampleRate = "sample_rate"
        case durationMs = "duration_ms"
        case bytes
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case hold
        case holdReason = "hold_reason"
        case restricted, path
        case shreddedAt = "shredded_at"
        case node, storage
        case redactedFrom = "redacted_from"
        case redaction
    }
}
