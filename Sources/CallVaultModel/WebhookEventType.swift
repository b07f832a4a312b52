/// The kind of a webhook event, spelled `area.verb` as Standard Webhooks' `type` (an open set, as
/// ``AuditAction``: new subsystems add their own without breaking callers).
public struct WebhookEventType: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let callStarted: WebhookEventType = "call.started"
    public static let callEnded: WebhookEventType = "call.ended"
    public static let consentGranted: WebhookEventType = "consent.granted"
    public static let consentDenied: WebhookEventType = "consent.denied"
    public static let consentRevoked: WebhookEventType = "consent.revoked"
    public static let recordingCompleted: WebhookEventType = "recording.completed"
    public static let recordingInterrupted: WebhookEventType = "recording.interrupted"
    /// The data disk refused a live recording's writes (full or failing): audio was lost in a gap.
    public static let recordingStorageGap: WebhookEventType = "recording.storage_gap"
    public static let transcriptCompleted: WebhookEventType = "transcript.completed"
    /// A transcription attempt failed and will be retried (the job's last error is not sent).
    public static let transcriptFailed: WebhookEventType = "transcript.failed"
    /// A transcription job used up its attempts and was dead-lettered.
    public static let jobDead: WebhookEventType = "job.dead"
    public static let recordingShredded: WebhookEventType = "recording.shredded"
    /// A recording's sensitive spans were silenced: a verified redacted copy replaced it (the original is
    /// reported `recording.shredded` with reason `redacted`).
    public static let recordingRedacted: WebhookEventType = "recording.redacted"
    /// A redacted copy failed its check: the original is kept, restricted, until someone looks.
    public static let recordingRedactionFailed: WebhookEventType = "recording.redaction_failed"
    public static let subjectExported: WebhookEventType = "subject.exported"
    public static let subjectErased: WebhookEventType = "subject.erased"
    public static let holdSet: WebhookEventType = "hold.set"
    public static let holdCleared: WebhookEventType = "hold.cleared"
}
