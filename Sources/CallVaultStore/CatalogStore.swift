public import CallVaultModel
public import Foundation

/// The catalog as a service, whatever stores it: the embedded SQLite file of one data directory
/// (``Catalog``) or a shared PostgreSQL database (``PostgresCatalog``) that nodes on many machines use.
///
/// Tenants, calls and their consent evidence, recordings and their paused spans, transcripts, and the
/// retention state of each. Every operation that changes what a guarantee rests on records its audit
/// entry in the same transaction (so the change and its evidence commit together or not at all), and
/// completing a recording queues its transcription job in that transaction too. Both backends pass one
/// conformance suite (`CatalogStoreConformanceTests`), so a caller cannot tell them apart except by speed.
///
/// Async because a network database answers after a round trip and must not block an event loop; the
/// SQLite backend does its short local transactions inline (its methods are synchronous and satisfy
/// these requirements as they are). Times are stored with millisecond precision. The job queue and the
/// audit log have their own interfaces (``JobQueue``, ``AuditStore``), reached through ``queue`` and
/// ``audit``.
public protocol CatalogStore: Sendable {
    /// Where the catalog lives, for messages: a file path or `postgres://USER@HOST:PORT/DB`.
    var location: String { get }
    /// The job queue kept beside the catalog (same database, so a completed recording's job is queued in
    /// the recording's transaction).
    var queue: any JobQueue { get }
    /// The audit log kept beside the catalog.
    var audit: any AuditStore { get }
    /// The tenants' webhook endpoints and the outbox their events wait in (same database, so an event is
    /// queued in the transaction of the change it reports).
    var webhooks: any WebhookStore { get }
    /// Closes the catalog's connections (PostgreSQL's pool; nothing for SQLite, whose file closes with
    /// the last reference). Nothing opened from it can be used after.
    func close() async

    // MARK: Tenants

    /// Adds a tenant with a fresh API token (returned once; only its hash is kept), audited.
    func addTenant(name: String, policy: TenantPolicy, actor: String, at: Date) async throws(CatalogError)
        -> (tenant: Tenant, token: String)
    /// The tenant whose API token this is, or nil; compared in constant time.
    func tenant(authenticatedBy token: String) async throws(CatalogError) -> Tenant?
    /// The tenant with this id; `notFound` otherwise.
    func tenant(id: String) async throws(CatalogError) -> Tenant
    /// Every tenant, by name.
    func tenants() async throws(CatalogError) -> [Tenant]
    /// Replaces a tenant's policy, audited with the fields that changed.
    func updatePolicy(ofTenant id: String, to policy: TenantPolicy, actor: String, at: Date)
        async throws(CatalogError) -> Tenant

    // MARK: Calls and consent

    /// Registers a call (its caller number kept only hashed and sealed under `callerKeys`), audited.
    func registerCall(
        tenantID: String, externalID: String, callerNumber: String?, startedAt: Date, actor: String,
        callerKeys: CallerKeys?
    ) async throws(CatalogError) -> CallRecord
    /// The call with this id (within `tenantID` when given); `notFound` otherwise.
    func call(id: String, tenantID: String?) async throws(CatalogError) -> CallRecord
    /// A tenant's call by the telephony platform's id, or nil.
    func call(tenantID: String, externalID: String) async throws(CatalogError) -> CallRecord?
    /// Ends a call (closing its last pause, when given), audited.
    func endCall(id: String, closingPause: PausedSpan?, at: Date) async throws(CatalogError)
    /// The calls with this platform id, across tenants (AudioSocket finds its call by UUID).
    func calls(externalID: String) async throws(CatalogError) -> [CallRecord]
    /// A tenant's calls from one caller number, found through its keyed hash.
    func calls(tenantID: String, callerNumber: String, callerKeys: CallerKeys) async throws(CatalogError)
        -> [CallRecord]
    /// Calls with their recording and transcript counts, newest first.
    func callSummaries(tenantID: String?, limit: Int?) async throws(CatalogError) -> [CallSummary]
    /// Calls of some tenants within a start-time window, newest first, a page after a keyset cursor
    /// (the web console's listing).
    func callSummaries(matching query: CallSummaryQuery) async throws(CatalogError) -> [CallSummary]
    /// Records one consent event and its audit entry.
    func recordConsentEvent(
        callID: String, kind: ConsentEventKind, method: ConsentMethod, at: Date, frameIndex: Int64?,
        timelineMs: Int64?, actor: String
    ) async throws(CatalogError) -> ConsentEventRecord
    /// Records a run of consent evidence and its audit entries in one transaction: all or none.
    func recordConsentEvidence(callID: String, _ evidence: [ConsentEvidence], actor: String, at: Date)
        async throws(CatalogError) -> [ConsentEventRecord]
    /// Audits a call ended by a limit (duration, size, idle).
    func recordCallEndedByLimit(
        callID: String, limit: String, details: [String: String], actor: String, at: Date
    ) async throws(CatalogError) -> AuditEntry
    /// A call's consent events in the order they were recorded.
    func consentEvents(callID: String) async throws(CatalogError) -> [ConsentEventRecord]

    // MARK: Sealed files in an object store

    /// Closed recordings and transcripts whose files are `spooled` or `uploading` (oldest first, at most
    /// `limit`): what reconcilers upload when the file is in their spool. Open recordings are left out.
    func filesAwaitingUpload(limit: Int) async throws(CatalogError) -> [SpooledFile]
    /// Moves a row's ``SealedStorage`` to `to` if it is one of `from` now; false when it was not (another
    /// node moved it, or it was shredded meanwhile). Never changes a shredded row.
    func setStorage(of kind: SpooledFile.Kind, id: String, to: SealedStorage, from: Set<SealedStorage>)
        async throws(CatalogError) -> Bool

    // MARK: Recordings

    /// Creates a track's recording (state `recording`), expiring after its tenant's voice retention,
    /// owned by the serve `node` recording it (nil for a tool); `storage` is `spooled` when the directory
    /// keeps its files in an object store, nil otherwise.
    func createRecording(
        id: String?, callID: String, track: RecordingTrack, codec: StorageCodec, sampleRate: Int, path: String,
        createdAt: Date, node: String?, storage: SealedStorage?
    ) async throws(CatalogError) -> RecordingRecord
    /// The recording with this id (within `tenantID` when given); `notFound` otherwise.
    func recording(id: String, tenantID: String?) async throws(CatalogError) -> RecordingRecord
    /// Moves open recordings' duration and size forward in one transaction; returns the ids that are no
    /// longer being recorded (finished meanwhile), left unchanged.
    func updateRecordingProgress(_ updates: [RecordingProgress]) async throws(CatalogError) -> [String]
    /// Closes a recording in `state` with its final duration and size.
    func finishRecording(id: String, state: RecordingState, durationMs: Int64, bytes: Int64)
        async throws(CatalogError)
    /// Completes a recording and queues its call's transcription job (or returns the one already queued
    /// for the call and engine), in one transaction: a complete recording is never left untranscribed.
    func completeRecording(id: String, durationMs: Int64, bytes: Int64, transcriptionEngine: String, at: Date)
        async throws(CatalogError) -> JobRecord
    /// Records a span in which recording was paused.
    func addPausedSpan(callID: String, recordingID: String?, startMs: Int64, endMs: Int64?)
        async throws(CatalogError) -> PausedSpanRecord
    /// Closes an open paused span.
    func closePausedSpan(id: Int64, endMs: Int64) async throws(CatalogError)
    /// A call's paused spans by start.
    func pausedSpans(callID: String) async throws(CatalogError) -> [PausedSpanRecord]
    /// Recordings with their call's external id, optionally of one call or tenant.
    func recordingSummaries(callID: String?, tenantID: String?) async throws(CatalogError) -> [RecordingSummary]
    /// Restricts (GDPR Art. 18) or releases a recording, audited with the reason.
    func setRestricted(recordingID: String, _ restricted: Bool, reason: String, actor: String, at: Date)
        async throws(CatalogError)

    // MARK: Audio redaction

    /// Creates the row of a redacted copy of a closed recording (state `recording`, the original's call,
    /// track, codec, rate, creation and expiry; its own id and path), refused for an open, shredded or held
    /// original.
    func createRedactedRecording(
        originalID: String, id: String, path: String, storage: SealedStorage?, redaction: RecordingRedaction
    ) async throws(CatalogError) -> RecordingRecord
    /// Records how a redacted copy's check came out, audited in the same transaction; a failure restricts
    /// the original.
    @discardableResult
    func recordRedactionVerification(copyID: String, passed: Bool, actor: String, details: [String: String], at: Date)
        async throws(CatalogError) -> AuditEntry

    /// Opens a sensitive window on a call at `atMs` of its timeline (an open one is returned as it is), audited.
    func openSensitiveWindow(callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date)
        async throws(CatalogError) -> SensitiveWindow
    /// Closes the call's open sensitive window at `atMs`, audited; nil when none was open.
    @discardableResult
    func closeSensitiveWindow(callID: String, atMs: Int64, source: SensitiveWindow.Source, actor: String, at: Date)
        async throws(CatalogError) -> SensitiveWindow?
    /// A call's sensitive windows by start.
    func sensitiveWindows(callID: String) async throws(CatalogError) -> [SensitiveWindow]

    /// Stores one of the bot's utterances (sealed); a second with the same id on the call is `duplicate`.
    func addBotUtterance(_ utterance: BotUtterance) async throws(CatalogError)
    /// Moves an utterance's start to `atMs` (a Twilio mark named after it) unless its start was given;
    /// false when nothing moved.
    @discardableResult
    func placeBotUtterance(callID: String, utteranceID: String, atMs: Int64) async throws(CatalogError) -> Bool
    /// A call's utterances by start.
    func botUtterances(callID: String) async throws(CatalogError) -> [BotUtterance]
    /// Deletes a call's utterances (once its transcript holds them); returns how many.
    @discardableResult
    func deleteBotUtterances(callID: String) async throws(CatalogError) -> Int

    // MARK: Recovery

    /// Recordings still in state `recording` (their writer died).
    func recordingsLeftOpen() async throws(CatalogError) -> [RecordingRecord]
    /// Marks an open recording `interrupted` with what survived, audited.
    func markRecordingInterrupted(
        id: String, durationMs: Int64, bytes: Int64, actor: String, details: [String: String], at: Date
    ) async throws(CatalogError) -> AuditEntry
    /// Closes a recovered recording and queues its job (when an engine is given), in one transaction.
    func closeRecoveredRecording(
        id: String, state: RecordingState, durationMs: Int64, bytes: Int64, actor: String,
        details: [String: String], transcriptionEngine: String?, at: Date
    ) async throws(CatalogError) -> (entry: AuditEntry, job: JobRecord?)
    /// Queues a job for each closed recording whose call has none; returns the calls queued.
    func queueMissingTranscriptionJobs(engine: String, at: Date) async throws(CatalogError) -> [String]

    // MARK: Retention

    /// Sets or clears a legal hold on a recording, audited.
    func setHold(recordingID: String, held: Bool, reason: String?, actor: String, at: Date)
        async throws(CatalogError) -> RecordingRecord
    /// Recordings past their expiry, not held and not yet shredded.
    func expiredRecordings(asOf now: Date) async throws(CatalogError) -> [RecordingRecord]
    /// Marks one recording shredded, audited.
    func markRecordingShredded(id: String, actor: String, at: Date) async throws(CatalogError)
    /// Marks recordings shredded in one transaction, audited each; returns how many changed.
    func markRecordingsShredded(ids: [String], actor: String, reason: String, at: Date)
        async throws(CatalogError) -> Int
    /// Transcripts past their expiry and not yet shredded.
    func expiredTranscripts(asOf now: Date) async throws(CatalogError) -> [TranscriptRecord]
    /// Marks transcripts shredded in one transaction, audited each; returns how many changed.
    func markTranscriptsShredded(ids: [String], actor: String, reason: String, at: Date)
        async throws(CatalogError) -> Int
    /// The recordings of these calls.
    func recordings(inCalls callIDs: [String]) async throws(CatalogError) -> [RecordingRecord]
    /// The transcripts of these calls.
    func transcripts(inCalls callIDs: [String]) async throws(CatalogError) -> [TranscriptRecord]

    // MARK: Transcripts

    /// When a transcript made at `createdAt` expires under its tenant's policy.
    func transcriptExpiry(tenantID: String, createdAt: Date) async throws(CatalogError) -> Date
    /// Records a sealed transcript, audited (`transcript.created`, with `details` added: counts and
    /// settings only, never transcript text).
    func insertTranscript(_ transcript: TranscriptRecord, actor: String, details: [String: String])
        async throws(CatalogError)
    /// The transcript with this id (within `tenantID` when given); `notFound` otherwise.
    func transcript(id: String, tenantID: String?) async throws(CatalogError) -> TranscriptRecord
    /// A call's transcripts.
    func transcripts(callID: String) async throws(CatalogError) -> [TranscriptRecord]
    /// Transcripts, newest first, optionally one tenant's, at most `limit`.
    func transcripts(tenantID: String?, limit: Int) async throws(CatalogError) -> [TranscriptRecord]

    // MARK: Web console operators

    /// Adds an operator with a role in each of `roles`' tenants (or global administration), audited
    /// `operator.added` with the roles; `passwordHash` is the stored form, never the password.
    func addOperator(
        name: String, passwordHash: String, globalAdmin: Bool, roles: [String: OperatorRole], actor: String, at: Date
    ) async throws(CatalogError) -> OperatorAccount
    /// The operator and its password hash, for sign-in; nil when there is none by that name.
    func operatorCredentials(name: String) async throws(CatalogError) -> OperatorCredentials?
    /// Every operator, by name.
    func operators() async throws(CatalogError) -> [OperatorAccount]
    /// Removes an operator, audited `operator.removed`; `notFound` when there is none by that name.
    func removeOperator(name: String, actor: String, at: Date) async throws(CatalogError)
    /// Gives an operator a TOTP second factor (`secret`: sealed, or 20 plain bytes) or takes it away (nil),
    /// forgetting the last step accepted; audited `operator.totp_enabled` / `operator.totp_disabled` without
    /// the secret. `duplicate` when enabling an operator that has one, `notFound` when disabling one that has none.
    func setOperatorTOTP(name: String, secret: OperatorTOTP.Secret?, actor: String, at: Date) async throws(CatalogError)
    /// Replaces an operator's plain TOTP secret by its sealed form, keeping the last step accepted; false
    /// (nothing changed) unless the operator still has exactly `plain`. Not audited: who may sign in is unchanged.
    func sealOperatorTOTP(name: String, plain: [UInt8], sealed: [UInt8]) async throws(CatalogError) -> Bool
    /// Records that a code of `step` was accepted for the operator, if no code of this step or a later one
    /// was: true then, false for a replay. Atomic, so two nodes cannot both accept one code.
    func acceptOperatorTOTPStep(name: String, step: Int64) async throws(CatalogError) -> Bool

    // MARK: Web console sessions

    /// Starts a console session (`id`: the SHA-256 of the cookie's token, never the token), audited
    /// `operator.signed_in` with `details` in the same transaction, and deletes sessions last used before
    /// `idleBefore` on the way. In the catalog, so every node sharing it knows the session.
    /// `notFound` when the operator is gone.
    func startConsoleSession(
        id: String, operatorName: String, details: [String: String], idleBefore: Date, at: Date
    ) async throws(CatalogError)
    /// The operator of a session used at or after `idleBefore` (its last use moved to `at` when it was
    /// before `refreshBefore`, so a busy session is not a write per request); nil when there is none or it
    /// has gone idle, which deletes it.
    func touchConsoleSession(id: String, idleBefore: Date, refreshBefore: Date, at: Date) async throws(CatalogError)
        -> String?
    /// Ends one session (`id` given) or every session of an operator (`operatorName` given), audited
    /// `operator.signed_out` with how many ended; returns that count (0 writes no entry).
    func endConsoleSessions(id: String?, operatorName: String?, actor: String, at: Date) async throws(CatalogError) -> Int

    /// Lets a console session play a call until `expires` (a session has one grant: a new one replaces
    /// it), with the reasons its decryption was audited with, so that any node can open the call for that
    /// session's player. Ends with the session. `notFound` when the session has ended.
    func grantConsolePlayback(
        sessionID: String, callID: String, reason: String, overrideReason: String?, expires: Date
    ) async throws(CatalogError)
    /// The session's grant for `callID` while it lasts at `at` (moved to `extendTo` when that is later);
    /// nil when there is none, it is for another call, or it has run out.
    func consolePlayback(sessionID: String, callID: String, at: Date, extendTo: Date) async throws(CatalogError)
        -> ConsolePlaybackGrant?

    /// Until when sign-in for this operator name from this address is refused, if it is at `at`.
    func consoleSignInLockedUntil(name: String, address: String, at: Date) async throws(CatalogError) -> Date?
    /// Counts a failed console sign-in for the pair (in the catalog, so every node counts the same guesses)
    /// and locks it per `rule` once it has failed too often; returns until when it is locked, if it is.
    /// Pairs that have not failed for a day and are not locked are forgotten on the way.
    func recordConsoleSignInFailure(name: String, address: String, rule: SignInLockout, at: Date) async throws(CatalogError)
        -> Date?
    /// Forgets the pair's failures (a successful sign-in).
    func clearConsoleSignInFailures(name: String, address: String) async throws(CatalogError)

    // MARK: Decryption

    /// Audits a decryption of a recording before it happens (refused while restricted, unless overridden).
    func auditRecordingDecryption(
        recordingID: String, tenantID: String?, actor: String, purpose: String, details: [String: String],
        restrictionOverride: RestrictionOverride?, at: Date
    ) async throws(CatalogError) -> DecryptionAudit
    /// Audits a decryption of a transcript before it happens (refused while restricted, unless overridden).
    func auditTranscriptDecryption(
        transcriptID: String, tenantID: String?, actor: String, purpose: String, details: [String: String],
        restrictionOverride: RestrictionOverride?, at: Date
    ) async throws(CatalogError) -> DecryptionAudit
}

extension CatalogStore {
    /// Records a sealed transcript, audited, with no details beyond its call and engine.
    public func insertTranscript(_ transcript: TranscriptRecord, actor: String) async throws(CatalogError) {
        try await insertTranscript(transcript, actor: actor, details: [:])
    }
}

extension Catalog: CatalogStore {
    public var location: String { path }
    public var queue: any JobQueue { SQLiteJobQueue(catalog: self) }
    public var audit: any AuditStore { SQLiteAuditStore(catalog: self) }
    public var webhooks: any WebhookStore { SQLiteWebhookStore(catalog: self) }
    public func close() async {}
}
