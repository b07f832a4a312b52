public import CallVaultArchive
import CallVaultAudio
public import CallVaultModel
public import CallVaultStore
public import CallVaultObjects
import CallVaultRecorder
public import Foundation
public import Logging

/// Takes jobs off the durable queue and turns a call's sealed recordings into one sealed transcript.
///
/// Per job: unseal each track in memory (audited), decode, place it on the call's timeline, resample
/// to 16 kHz, transcribe, merge the tracks by time with the speaker named, redact it per the tenant's
/// policy (``TranscriptRedaction``), seal the result under a transcript key, complete the job. Audio
/// never touches disk in plaintext.
///
/// The queue and the catalog are interfaces (``JobQueue``, ``CatalogStore``), so the same worker drains
/// the embedded SQLite queue or a shared PostgreSQL one; talking to them is async. The engine blocks,
/// so its calls run on the worker's own ``EngineThread``, never on the cooperative pool. Every step
/// after the claim is fenced by the claim's ``JobLease``: a worker whose lease ran out (it stalled, or its
/// engine hung) and whose job another worker claimed again cannot complete, fail or postpone it, and it
/// checks its lease before it stores a transcript, so it does not store a second one.
///
/// Not thread-safe: one worker per task, each with its own engine; several workers share one queue and
/// catalog safely.
public final class TranscriptionWorker {
    /// How a worker claims and retries.
    public struct Configuration: Sendable {
        /// Written into leases and audit entries (`worker:<id>`).
        public var workerID: String
        /// How long a claim lasts without a heartbeat (renewed every third of it while working).
        public var lease: Duration
        public var retry: JobRetryPolicy
        public var options: TranscriptionOptions
        /// How long a job waits when a track of its call is still being recorded.
        public var notReadyDelay: TimeInterval
        /// Transcribe in each tenant's language (its policy) rather than `options.language`.
        public var usesTenantLanguage: Bool
        /// How many tenant-model engines (Whisper sidecars, each with its model loaded) a worker keeps;
        /// past it the least recently used is stopped.
        public var maximumModelEngines: Int
        /// The object store the directory's sealed files are in (read with ranged GETs; transcripts
        /// uploaded when sealed); nil: all in the data directory.
        public var objects: (any ObjectStore)?

        public init(
            workerID: String = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8).lowercased())",
            lease: Duration = .seconds(120), retry: JobRetryPolicy = JobRetryPolicy(),
            options: TranscriptionOptions = TranscriptionOptions(), notReadyDelay: TimeInterval = 30,
            usesTenantLanguage: Bool = true, maximumModelEngines: Int = 4, objects: (any ObjectStore)? = nil
        ) {
            self.objects = objects
            self.usesTenantLanguage = usesTenantLanguage
            self.maximumModelEngines = max(1, maximumModelEngines)
            self.workerID = workerID
            self.lease = lease
            self.retry = retry
            self.options = options
            self.notReadyDelay = notReadyDelay
        }
    }

    /// What became of one claimed job.
    public struct Report: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            /// Transcribed and sealed (or already transcribed by this engine: idempotent).
            case done(transcriptID: String)
            /// Failed; the queue retries it after a backoff.
            case failed(String)
            /// Failed for the last allowed time.
            case dead(String)
            /// Must never run: its recordings were shredded, erased or restricted.
            case cancelled(String)
            /// A track is still being recorded; back in the queue without counting an attempt.
            case deferred
            /// The lease ran out mid-job and another worker may hold it: the result was dropped.
            case leaseLost
        }

        public let jobID: String
        public let callID: String
        public let outcome: Outcome
        /// Audio transcribed (all tracks), in milliseconds.
        public var audioMs: Int64 = 0
        /// Seconds spent unsealing, decoding and resampling.
        public var prepareSeconds: Double = 0
        /// Seconds spent in the engine.
        public var engineSeconds: Double = 0
        /// Bot segments taken from the bot's own text instead of the engine.
        public var botTextSegments = 0
        /// Bot utterances sent by its platform that its track never said (left out).
        public var botTextUnspoken = 0
        /// Bot turns whose recognised speech did not match their text (`--bot-transcript both`).
        public var botTextMismatches = 0
    }

    /// Recordings, transcripts and tenants' policies.
    public let catalog: any CatalogStore
    /// Where jobs are claimed and finished (by default the catalog's own queue).
    public let queue: any JobQueue
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    /// The engine for calls of tenants without a model of their own.
    public let engine: any TranscriptionEngine
    public let configuration: Configuration
    /// Makes the engine for a tenant's own model (`TenantPolicy.transcriptModel`); nil when the run
    /// ignores tenants' models (another engine than Whisper, or a model fixed by the run).
    public let makeModelEngine: TranscriptionModelEngineFactory?
    /// The engines made for tenants' models, by directory, least recently used first.
    private var modelEngines: [(directory: String, engine: any TranscriptionEngine)] = []
    /// Where this worker's engines run (see ``EngineThread``).
    let engineThread: EngineThread
    let logger: Logger

    /// - Parameters:
    ///   - queue: where to claim jobs; nil: the catalog's own (``CatalogStore/queue``).
    ///   - makeModelEngine: makes an engine of `engine`'s kind for a tenant's own model directory; each
    ///     is made when a job first needs it (on the worker's engine thread) and kept for the next.
    ///   - logger: where a dropped result (a lost lease) is reported.
    public convenience init(
        catalog: any CatalogStore, queue: (any JobQueue)? = nil, keyStore: KeyStore, dataDirectory: DataDirectory,
        engine: any TranscriptionEngine, configuration: Configuration = Configuration(),
        makeModelEngine: TranscriptionModelEngineFactory? = nil,
        logger: Logger = Logger(label: "callvault.transcribe")
    ) {
        self.init(
            catalog: catalog, queue: queue, keyStore: keyStore, dataDirectory: dataDirectory, engine: engine,
            engineThread: EngineThread(name: "callvault-engine-\(configuration.workerID)"),
            configuration: configuration, makeModelEngine: makeModelEngine, logger: logger)
    }

    /// A worker whose engine was already made on `engineThread` (``TranscriptionPool`` makes it there).
    init(
        catalog: any CatalogStore, queue: (any JobQueue)?, keyStore: KeyStore, dataDirectory: DataDirectory,
        engine: any TranscriptionEngine, engineThread: EngineThread, configuration: Configuration,
        makeModelEngine: TranscriptionModelEngineFactory?, logger: Logger
    ) {
        self.catalog = catalog
        self.queue = queue ?? catalog.queue
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.engine = engine
        self.engineThread = engineThread
        self.configuration = configuration
        self.makeModelEngine = makeModelEngine
        self.logger = logger
    }

    deinit { engineThread.close() }

    /// The model directories this worker holds an engine for, least recently used first.
    public var loadedModels: [String] { modelEngines.map(\.directory) }

    /// The job engine names this worker takes: its own and `auto` (the worker's default).
    public var claimedEngines: [String] { [RecordingWriter.defaultTranscriptionEngine, engine.name] }

    var actor: String { "worker:\(configuration.workerID)" }

    /// Claims and processes the next runnable job; nil when none is due.
    public func runNext() async throws(TranscriptionError) -> Report? {
        let job: JobRecord?
        do {
            job = try await queue.claimOne(
                workerID: configuration.workerID, engines: claimedEngines, lease: configuration.lease)
        } catch {
            throw TranscriptionError(.storeFailed, "cannot claim a job: \(error.message)")
        }
        guard let job else { return nil }
        return try await process(job)
    }

    /// Runs one claimed job to an outcome, recorded in the queue.
    func process(_ job: JobRecord) async throws(TranscriptionError) -> Report {
        // The claim's attempt number fences every step below: once the lease is lost and the job claimed
        // again, nothing this worker does changes it.
        let lease = job.lease ?? JobLease(jobID: job.id, workerID: configuration.workerID, attempt: job.attempts)
        let keeper = LeaseKeeper(
            queue: queue, lease: lease, duration: configuration.lease, expiresAt: job.leaseExpiresAt)
        var report = Report(jobID: job.id, callID: job.callId, outcome: .deferred)
        let result: Result<Report.Outcome, TranscriptionError>
        do throws(TranscriptionError) {
            result = .success(try await transcribe(job, keeper: keeper, into: &report))
        } catch {
            result = .failure(error)
        }
        // Whatever happened, a lost lease means another worker holds the job (or will): it decides.
        if await keeper.stop() { return dropped(job, lease, report, "the lease was lost while it ran") }
        do throws(JobQueueError) {
            switch result {
            case .success(.done(let id)):
                try await queue.complete(lease)
                return with(report, .done(transcriptID: id))
            case .success(.deferred):
                try await queue.postpone(lease, until: Date().addingTimeInterval(configuration.notReadyDelay))
                return with(report, .deferred)
            case .success(.cancelled(let reason)):
                try await queue.cancel(jobID: job.id, reason: reason)
                return with(report, .cancelled(reason))
            case .success(.leaseLost):
                return dropped(job, lease, report, "the lease was lost before its transcript was stored")
            case .success(let other):
                return with(report, other)
            case .failure(let error) where error.cancelsJob:
                try await queue.cancel(jobID: job.id, reason: error.message)
                return with(report, .cancelled(error.message))
            case .failure(let error):
                var policy = configuration.retry
                if !error.isRetryable { policy.maximumAttempts = 0 }
                let state = try await queue.fail(lease, error: error.message, policy: policy)
                return with(report, state == .dead ? .dead(error.message) : .failed(error.message))
            }
        } catch {
            if error.code == .leaseLost { return dropped(job, lease, report, "the queue refused its outcome") }
            throw TranscriptionError(.storeFailed, "job \(job.id): cannot record its outcome: \(error.message)")
        }
    }

    /// The report of a job whose lease this worker lost: nothing recorded for it, logged.
    private func dropped(_ job: JobRecord, _ lease: JobLease, _ report: Report, _ why: String) -> Report {
        logger.warning(
            "result dropped: \(why); the job belongs to the worker that holds it now",
            metadata: ["job": "\(job.id)", "call": "\(job.callId)", "attempt": "\(lease.attempt)"])
        return with(report, .leaseLost)
    }

    private func with(_ report: Report, _ outcome: Report.Outcome) -> Report {
        var copy = Report(jobID: report.jobID, callID: report.callID, outcome: outcome)
        copy.audioMs = report.audioMs
        copy.prepareSeconds = report.prepareSeconds
        copy.engineSeconds = report.engineSeconds
        copy.botTextSegments = report.botTextSegments
        copy.botTextUnspoken = report.botTextUnspoken
        copy.botTextMismatches = report.botTextMismatches
        return copy
    }

    /// The work itself; returns `.done`, `.deferred` or `.cancelled`, or throws.
    private func transcribe(_ job: JobRecord, keeper: LeaseKeeper, into report: inout Report)
        async throws(TranscriptionError) -> Report.Outcome
    {
        let recordings: [RecordingRecord]
        let existing: [TranscriptRecord]
        do {
            recordings = try await catalog.recordings(inCalls: [job.callId])
            existing = try await catalog.transcripts(callID: job.callId)
        } catch {
            throw TranscriptionError(.storeFailed, "job \(job.id): \(error.message)")
        }
        if recordings.contains(where: { $0.state == .recording }) { return .deferred }
        // With an object store: a track still in another node's spool (closed, its upload not done yet: a
        // node that crashed uploads it when it comes back) is waited for, not failed.
        if configuration.objects != nil,
            recordings.contains(where: {
                ($0.storage == .spooled || $0.storage == .uploading)
                    && RecordingFiles.existingParts(firstPart: dataDirectory.resolve($0.path)).isEmpty
            })
        {
            return .deferred
        }
        let live = recordings.filter { $0.state != .shredded }
        guard !live.isEmpty else {
            return .cancelled(
                recordings.isEmpty
                    ? "call \(job.callId) has no recording" : "the recordings of call \(job.callId) were shredded")
        }
        // A pre-check, so that no track is decrypted (or transcribed) when another will be refused; the
        // exporter enforces the restriction itself, and its refusal cancels the job too (see `prepare`).
        if live.contains(where: \.restricted) {
            return .cancelled("a recording of call \(job.callId) is restricted (GDPR Art. 18): not transcribed")
        }
        let policy = try await tenantPolicy(of: job)
        if let done = existing.first(where: { $0.engine == engine.name && $0.state == .complete }) {
            try await redactAudioIfPending(job, transcriptID: done.id, recordings: live, policy: policy)
            return .done(transcriptID: done.id)
        }
        var options = configuration.options
        if configuration.usesTenantLanguage {
            options.language = policy.transcriptLanguage == "auto" ? nil : policy.transcriptLanguage
        }
        options.vocabulary = policy.transcription.vocabulary
        let transcriber = EngineHandle(engine: try await engine(forModel: policy.transcriptModel, tenantID: job.tenantId))
        let exporter = RecordingExporter(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, payloadFormat: SegmentPayload.format,
            objects: configuration.objects)
        // The bot's own words, when its platform sent them (and the tenant does not ask for speech
        // recognition only): its track then goes to the engine only for the speech they do not cover, or
        // whole to check them (`both`).
        let botTexts = try await botUtterances(of: job)
        let botMode = policy.transcription.botTranscript
        var tracks: [(speaker: String, segments: [TranscriptSegment])] = []
        var botTextSegments: Int?
        var botTextCheck: BotTextCheck?
        var detected: [DetectedLanguage] = []
        for recording in live.sorted(by: { $0.track.sortOrder < $1.track.sortOrder }) {
            let started = ContinuousClock.now
            var audio = try await prepare(recording, with: exporter)
            var segments: [TranscriptSegment] = []
            var placedTexts: [TranscriptSegment] = []
            var checkedTexts: [TranscriptSegment]?
            if recording.track == .bot, !botTexts.isEmpty, botMode != .asr {
                let placement = BotTextAligner.place(botTexts, on: audio, sampleRate: TranscriptionEngineRate.hz)
                segments = placement.segments
                placedTexts = placement.segments
                botTextSegments = placement.segments.count
                report.botTextSegments += placement.segments.count
                report.botTextUnspoken += placement.unspoken
                if botMode == .both {
                    checkedTexts = placement.segments
                } else {
                    audio = placement.restSpeechMs >= Self.leastSpeechForEngineMs ? placement.rest : []
                }
            }
            let prepared = ContinuousClock.now
            report.prepareSeconds += (prepared - started).seconds
            if !audio.isEmpty {
                let recognition = try await engineThread.run { [options, audio] () throws(TranscriptionError) in
                    try transcriber.engine.recognise(audio, options: options)
                }
                var recognised = recognition.segments
                if let checkedTexts {
                    let result = BotTextChecker.check(texts: checkedTexts, recognised: recognised)
                    botTextCheck = result.check
                    report.botTextMismatches += result.check.mismatches.count
                    recognised = result.uncovered
                } else if !placedTexts.isEmpty {
                    // What the engine hears where the text was placed (silenced there) is a word's edge left
                    // over, or Whisper's "You" on silence: the text already says it.
                    recognised = BotTextChecker.uncovered(recognised, outside: placedTexts)
                }
                if let language = recognition.language {
                    detected.append(
                        DetectedLanguage(
                            speaker: recording.track.rawValue, language: language,
                            probability: recognition.languageProbability))
                }
                segments = (segments + recognised).sorted { ($0.startMs, $0.endMs) < ($1.startMs, $1.endMs) }
                report.engineSeconds += (ContinuousClock.now - prepared).seconds
                report.audioMs += Int64(audio.count) * 1000 / Int64(TranscriptionEngineRate.hz)
            }
            tracks.append((recording.track.rawValue, segments))
        }
        var transcript = Transcript(
            callId: job.callId, engine: engine.name, language: options.language,
            createdAt: Date().formatted(.iso8601), audioMs: report.audioMs, segments: Transcript.merge(tracks))
        transcript.botTextSegments = botTextSegments
        transcript.botTextCheck = botTextCheck
        transcript.detectedLanguages = detected.isEmpty ? nil : detected
        if let botTextCheck, !botTextCheck.mismatches.isEmpty {
            // Counts and times only: the texts stay in the sealed transcript.
            logger.notice(
                "bot turns did not match their text",
                metadata: [
                    "call": "\(job.callId)", "mismatched": "\(botTextCheck.mismatches.count)",
                    "checked": "\(botTextCheck.checked)",
                ])
        }
        // Redaction per the tenant's policy, over both tracks, before anything is sealed: the placeholders
        // are all that is ever stored (the audit entry and metrics get counts per kind only).
        let windows = try await sensitiveWindows(of: job, recordings: live)
        if !policy.redact.isEmpty || !windows.isEmpty { transcript.redact(policy.redact.categories, windows: windows) }
        // The engine may have taken longer than the lease (a stuck sidecar, a stopped process): if the job
        // was claimed again meanwhile, the newer attempt stores the transcript, not this one.
        guard await keeper.confirm() else { return .leaseLost }
        let store = TranscriptStore(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, objects: configuration.objects)
        let sealed = try await store.seal(transcript, tenantID: job.tenantId, actor: actor)
        // The same spans, silenced in the recorded voice: the text and the audio agree on what is gone.
        if let redactions = transcript.redactions { try await redactAudio(callID: job.callId, redactions: redactions) }
        if !botTexts.isEmpty { await discardBotUtterances(of: job) }
        return .done(transcriptID: sealed.id)
    }

    /// The job's tenant's policy: its redaction always applies, its language and model when this worker
    /// follows them. Unreadable: the job fails (and is retried) rather than seal an unredacted transcript.
    private func tenantPolicy(of job: JobRecord) async throws(TranscriptionError) -> TenantPolicy {
        do { return try await catalog.tenant(id: job.tenantId).policy } catch {
            throw TranscriptionError(.storeFailed, "job \(job.id): \(error.message)")
        }
    }

    /// The worker's engine, or for a tenant's own model directory the engine kept for it or a new one
    /// (the least recently used is stopped past ``Configuration/maximumModelEngines``). A model that
    /// cannot be loaded fails this job only, retried by the queue; nothing is kept for it, so the next
    /// attempt uses a repaired directory.
    private func engine(forModel directory: String?, tenantID: String) async throws(TranscriptionError)
        -> any TranscriptionEngine
    {
        guard let directory, let make = makeModelEngine else { return engine }
        if let index = modelEngines.firstIndex(where: { $0.directory == directory }) {
            let kept = modelEngines.remove(at: index)
            modelEngines.append(kept)
            return kept.engine
        }
        let made: any TranscriptionEngine
        do {
            // Starting a sidecar and loading a model blocks: on the engine thread, like the engine itself.
            made = try await engineThread.run { () throws(TranscriptionError) in EngineHandle(engine: try make(directory)) }
                .engine
        } catch {
            let named = error.message.contains(directory) ? "" : " \(directory)"
            throw TranscriptionError(
                error.isRetryable ? error.code : .modelMissing,
                "tenant \(tenantID)'s transcript model\(named) cannot be used: \(error.message) "
                    + "(fix the directory, or clear it: callvault tenant set \(tenantID) --transcript-model default)")
        }
        if modelEngines.count >= configuration.maximumModelEngines { modelEngines.removeFirst() }
        modelEngines.append((directory, made))
        return made
    }

    /// The engine kept for a model directory, if any (tests look at its model and sidecar).
    func keptEngine(for directory: String) -> (any TranscriptionEngine)? {
        modelEngines.first { $0.directory == directory }?.engine
    }

    /// Unseals one track on the call's timeline and brings it to the engine's rate.
    private func prepare(_ recording: RecordingRecord, with exporter: RecordingExporter)
        async throws(TranscriptionError) -> [Int16]
    {
        let exported: ExportedRecording
        do {
            exported = try await exporter.export(
                recordingID: recording.id, actor: actor, purpose: "transcription", onTimeline: true)
        } catch {
            switch error.code {
            case .shredded: throw TranscriptionError(.shredded, error.message)
            // The worker never overrides a restriction: the job is cancelled, not retried.
            case .restricted: throw TranscriptionError(.restricted, error.message)
            case .unsupportedCodec: throw TranscriptionError(.unsupportedAudio, error.message)
            case .sealedFileFailed: throw TranscriptionError(.corruptRecording, error.message)
            default: throw TranscriptionError(.storeFailed, error.message)
            }
        }
        guard exported.sampleRate != TranscriptionEngineRate.hz else { return exported.samples }
        guard let rate = SampleRate(rawValue: exported.sampleRate) else {
            throw TranscriptionError(
                .unsupportedAudio, "recording \(recording.id) is at \(exported.sampleRate) Hz, which cannot be resampled")
        }
        // Seconds of work in a debug build for a long call: off the cooperative pool, like the engine.
        let samples = exported.samples
        return try await engineThread.run { () throws(TranscriptionError) in
            Resampler.resample(samples, from: rate, to: .hz16000)
        }
    }
}

extension RecordingTrack {
    /// Caller first: on a tie in time the caller's words come first.
    var sortOrder: Int { self == .caller ? 0 : 1 }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
