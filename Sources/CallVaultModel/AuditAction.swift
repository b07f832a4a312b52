/// What an audit entry records. An open set (new subsystems add their own), spelled `area.verb`.
public struct AuditAction: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let tenantCreated: AuditAction = "tenant.created"
    public static let tenantPolicyChanged: AuditAction = "tenant.policy_changed"
    public static let callStarted: AuditAction = "call.started"
    /// The server finished a call because a limit ran out (idle timeout, maximum call duration);
    /// `details` name the limit and its value. No phone number, token or audio.
    public static let callEndedByLimit: AuditAction = "call.ended_by_limit"
    /// A consent event; `details` names its kind and method.
    public static let consentEvent: AuditAction = "consent.event"
    public static let recordingExported: AuditAction = "recording.exported"
    public static let recordingDecrypted: AuditAction = "recording.decrypted"
    /// Start-up recovery marked a recording cut by a crash `interrupted`; `details` say what was readable.
    public static let recordingRecovered: AuditAction = "recording.recovered"
    /// The data disk refused a live recording's writes (full or failing): `details` say why (`reason`
    /// `diskFull`/`ioError`), how much audio was lost (`lostMs`, `segments`), after how much (`afterMs`),
    /// and whether the recording went on after it (`resumed`).
    public static let recordingStorageGap: AuditAction = "recording.storage_gap"
    /// Start-up recovery queued the transcription job a finished recording's call was missing (left
    /// by a crash in an older build, which marked the recording and queued the job in two steps).
    public static let jobRepaired: AuditAction = "job.repaired"
    /// An operator queued a dead, cancelled or failed transcription job again (`details`: its call and
    /// the state it left).
    public static let jobRetried: AuditAction = "job.retried"
    /// A worker sealed a new transcript; `details` name the call and the engine.
    public static let transcriptCreated: AuditAction = "transcript.created"
    public static let transcriptDecrypted: AuditAction = "transcript.decrypted"
    public static let keyDestroyed: AuditAction = "key.destroyed"
    /// A recording's keys were destroyed and its file deleted at expiry or on erasure.
    public static let recordingShredded: AuditAction = "recording.shredded"
    /// A recording was restricted (GDPR Art. 18) or released from it; `details` give the reason.
    public static let recordingRestricted: AuditAction = "recording.restricted"
    public static let recordingUnrestricted: AuditAction = "recording.unrestricted"
    /// A restricted recording was processed anyway, by an explicit override; `details` say what and why.
    public static let restrictionOverridden: AuditAction = "recording.restriction_overridden"
    /// A recording's audio was redacted: a copy with its sensitive spans silenced was verified and replaced
    /// it (`subjectID` the copy; `details` the original's id, span counts per kind, milliseconds silenced).
    public static let recordingRedacted: AuditAction = "recording.redacted"
    /// A redacted copy failed its check: it was destroyed and the original restricted (`details` say why).
    public static let recordingRedactionFailed: AuditAction = "recording.redaction_failed"
    /// The bot opened or closed a sensitive window on a call (`details`: timeline milliseconds, source).
    public static let sensitiveWindowOpened: AuditAction = "call.sensitive_window_opened"
    public static let sensitiveWindowClosed: AuditAction = "call.sensitive_window_closed"
    public static let holdSet: AuditAction = "hold.set"
    public static let holdCleared: AuditAction = "hold.cleared"
    public static let subjectExported: AuditAction = "subject.exported"
    public static let subjectErased: AuditAction = "subject.erased"
    /// A web console operator was created (`details`: roles, never the password or its hash).
    public static let operatorAdded: AuditAction = "operator.added"
    public static let operatorRemoved: AuditAction = "operator.removed"
    /// An operator was given a TOTP second factor, or had it taken away (`details`: none; never the secret).
    public static let operatorTOTPEnabled: AuditAction = "operator.totp_enabled"
    public static let operatorTOTPDisabled: AuditAction = "operator.totp_disabled"
    /// An operator signed in to the web console (`details`: the client address).
    public static let operatorSignedIn: AuditAction = "operator.signed_in"
    /// Console sessions ended before their idle timeout: a sign-out, or `callvault operator sign-out`
    /// (`details`: how many sessions).
    public static let operatorSignedOut: AuditAction = "operator.signed_out"
    /// A tenant's webhook endpoint was set or changed; `details` name its host and whether the signing
    /// secret changed (never the secret, nor the URL's path or query, which may carry a receiver's token).
    public static let webhookConfigured: AuditAction = "webhook.configured"
    public static let webhookRemoved: AuditAction = "webhook.removed"

    /// Actions written with their spelling where they happen rather than a constant above.
    public static let transcriptShredded: AuditAction = "transcript.shredded"
    public static let sweepStarted: AuditAction = "sweep.started"
    public static let keysRotationStarted: AuditAction = "keys.rotation_started"
    public static let keysRotated: AuditAction = "keys.rotated"
    public static let keysMigrationStarted: AuditAction = "keys.migration_started"
    public static let keysMigrated: AuditAction = "keys.migrated"

    /// Every action this build writes, sorted by name: what the console's audit filter offers (an action
    /// not listed here is refused there, so a typo is an error rather than an empty page). A new action
    /// is added here too (`AuditActionTests` checks the list against the sources).
    public static let known: [AuditAction] = [
        tenantCreated, tenantPolicyChanged, callStarted, callEndedByLimit, consentEvent, recordingExported,
        recordingDecrypted, recordingRecovered, recordingStorageGap, jobRepaired, jobRetried, transcriptCreated,
        transcriptDecrypted, keyDestroyed, recordingShredded, recordingRestricted, recordingUnrestricted,
        restrictionOverridden, recordingRedacted, recordingRedactionFailed, sensitiveWindowOpened, sensitiveWindowClosed,
        holdSet, holdCleared, subjectExported, subjectErased, operatorAdded, operatorRemoved, operatorTOTPEnabled,
        operatorTOTPDisabled, operatorSignedIn, operatorSignedOut, webhookConfigured, webhookRemoved, transcriptShredded, sweepStarted,
        keysRotationStarted, keysRotated, keysMigrationStarted, keysMigrated,
    ].sorted { $0.rawValue < $1.rawValue }
}
