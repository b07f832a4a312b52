public import CallVaultArchive
public import CallVaultAudio
public import CallVaultModel
public import CallVaultStore
import Foundation
public import Logging

/// Records one call: the consent gate, in-band DTMF detection, and per track (caller, bot) a
/// segmenter and a recording writer — the hot path from frame to sealed file.
///
/// One instance per call, used from one thread (the call's event loop). A track's recording is
/// opened at its first admitted frame, so a call that never gets consent leaves no recording at all.
/// `receive` allocates nothing once both tracks are open.
///
/// Two ways to drive it. On the SQLite ``Catalog`` (tools, tests) the synchronous methods
/// (``apply(_:method:atMs:)``, ``receive(_:track:)``, ``finish(atMs:)``) store evidence and open
/// tracks inline. The ingest, which must never wait for a database on an event loop, drives the same
/// decisions step by step (`CallRecorder+Steps.swift`): a step that needs the catalog stops and says
/// what it needs, the caller stores it elsewhere and resumes the step with the result, holding the
/// call's later frames meanwhile. Both ways share every decision, so evidence-first holds on both.
public final class CallRecorder {
    /// What a call needs from its tenant and the server.
    public struct Settings: Sendable {
        public var policy: ConsentPolicy
        /// The concrete codec recordings are stored in (the tenant's codec, `native` resolved).
        public var storageCodec: StorageCodec
        public var framesPerSegment: Int
        /// Detect DTMF tones in the caller's audio (in-band) as well as from signalling.
        public var detectInBandDTMF: Bool
        /// Whether opening a track's recording may call the key provider: `.forbidden` on an event loop
        /// (the day key must be ready in memory, else the track fails `dayKeyNotReady`, nothing recorded).
        public var providerRoundTrip: KeyStore.ProviderRoundTrip

        public init(
            policy: ConsentPolicy, storageCodec: StorageCodec, framesPerSegment: Int = 50,
            detectInBandDTMF: Bool = true, providerRoundTrip: KeyStore.ProviderRoundTrip = .allowed
        ) {
            self.policy = policy
            self.storageCodec = storageCodec
            self.framesPerSegment = framesPerSegment
            self.detectInBandDTMF = detectInBandDTMF
            self.providerRoundTrip = providerRoundTrip
        }
    }

    public let callID: String
    public let settings: Settings
    public internal(set) var gate: ConsentGate {
        didSet { keysCanDecide = gate.keysCanDecide }
    }
    /// ``ConsentGate/keysCanDecide`` of `gate`, kept as it changes: the per-frame question is one load, not
    /// a copy of the gate (and a retain of each reference it holds).
    private(set) var keysCanDecide = false
    /// What the call's frames and events have come to so far, in one value: the ingest reads it before
    /// and after each frame and compares once (most frames change none of it).
    public struct Counters: Equatable, Sendable {
        /// Frames the gate did not let through.
        public internal(set) var framesDropped = 0
        /// Consent events refused by the gate (reported to the sender, never applied).
        public internal(set) var eventsRefused = 0
        /// Segments sealed over all tracks.
        public internal(set) var segmentsSealed = 0
        /// Plaintext bytes sealed over all tracks.
        public internal(set) var bytesSealed = 0
        /// Segments the data disk refused over all tracks (their audio is lost; the call goes on).
        public internal(set) var segmentsLost = 0
        /// Changes whenever the disk refuses a segment or a track's storage gap closes: then look at
        /// ``CallRecorder/openStorageGaps`` and ``CallRecorder/takeClosedStorageGaps()``.
        public internal(set) var storageChanges = 0
    }

    public internal(set) var counters = Counters()
    /// Frames the gate did not let through, per call.
    public var framesDropped: Int { counters.framesDropped }
    /// Frames written over all tracks.
    public var framesWritten: Int { (tracks.caller?.framesWritten ?? 0) + (tracks.bot?.framesWritten ?? 0) }
    /// Consent events refused by the gate (reported to the sender, never applied).
    public var eventsRefused: Int { counters.eventsRefused }
    /// Consent decisions whose evidence could not be stored (reported to the sender and counted).
    public private(set) var evidenceFailures = 0
    /// Whether the next frame may be written: the gate admits it, and no evidence write has failed
    /// since the last stored event. One stored flag: the per-frame cost is one load.
    public private(set) var admits = false
    /// Set when an evidence write fails, cleared when a later event's evidence is stored.
    public private(set) var heldForEvidence = false
    /// Decisions that took effect without their evidence (they record nothing), stored with the next event.
    private var unstoredEvidence: [ConsentEvidence] = []

    /// The catalog the synchronous methods use inline; nil when the recorder is driven step by step.
    let catalog: Catalog?
    /// Where the call's rows live (for messages and for writers opened step by step).
    let store: any CatalogStore
    let keyStore: KeyStore
    let dataDirectory: DataDirectory
    let flushGroup: FlushGroup?
    let logger: Logger
    /// The open tracks (a track opens at its first admitted frame).
    var tracks = PerTrack<Track?>(caller: nil, bot: nil)
    /// The open tracks, caller first.
    var openTracks: [Track] { [tracks.caller, tracks.bot].compactMap { $0 } }
    private var detector: DTMFDetector?
    private var detectorRate: SampleRate?
    /// Caller frames skipped since the detector last ran: it starts afresh when it runs again.
    private var detectorSkipped = false
    /// Caller frames the in-band DTMF detector analysed; frames while no key can decide anything
    /// (``ConsentGate/keysCanDecide``) are skipped, and not counted.
    public private(set) var framesScannedForKeys = 0
    var finished = false

    /// One track's segmenter and writer.
    final class Track {
        let segmenter: Segmenter
        let writer: RecordingWriter
        /// Frames of this track written (sealed or waiting in the segmenter).
        var framesWritten = 0
        init(segmenter: Segmenter, writer: RecordingWriter) {
            self.segmenter = segmenter
            self.writer = writer
        }
    }

    public convenience init(
        callID: String, settings: Settings, catalog: Catalog, keyStore: KeyStore, dataDirectory: DataDirectory,
        flushGroup: FlushGroup?, logger: Logger
    ) {
        self.init(
            callID: callID, settings: settings, store: catalog, keyStore: keyStore, dataDirectory: dataDirectory,
            flushGroup: flushGroup, logger: logger)
    }

    /// A recorder driven step by step on any catalog (the ingest): nothing here waits for `store`.
    public init(
        callID: String, settings: Settings, store: any CatalogStore, keyStore: KeyStore, dataDirectory: DataDirectory,
        flushGroup: FlushGroup?, logger: Logger
    ) {
        self.callID = callID
        self.settings = settings
        self.catalog = store as? Catalog
        self.store = store
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.flushGroup = flushGroup
        self.logger = logger
        gate = ConsentGate(policy: settings.policy)
        admits = gate.admits
        keysCanDecide = gate.keysCanDecide
    }

    /// The recordings opened so far, by track.
    public var recordingIDs: [RecordingTrack: String] {
        Dictionary(uniqueKeysWithValues: openTracks.map { ($0.writer.recording.track, $0.writer.recording.id) })
    }

    /// Replays consent events stored before the stream started (e.g. `POST /v1/calls/{id}/events`
    /// sent while no stream was open), at the start of the timeline. A stored event the gate refuses
    /// (a `resume` with no pause) is skipped, as it would have been live.
    ///
    /// Throws when the stored events cannot be read: the stream must not start, since a stored
    /// `deny` or `revoke` could not be honoured (failing closed).
    public func replayStoredEvents() throws(RecorderError) {
        let events: [ConsentEventRecord]
        do { events = try requireCatalog().consentEvents(callID: callID) } catch {
            throw RecorderError(
                .catalogFailed,
                "the stored consent events of call \(callID) cannot be read, so nothing is recorded: \(error.message)")
        }
        replay(events)
    }

    /// Replays consent events read from the catalog elsewhere (see ``replayStoredEvents()``).
    public func replay(_ events: [ConsentEventRecord]) {
        for event in events {
            do {
                try gate.apply(event.kind, method: event.method, atMs: 0)
            } catch {
                logger.debug("stored consent event skipped", metadata: ["call": "\(callID)", "reason": "\(error.code)"])
            }
        }
        updateAdmits()
    }

    /// Applies a consent event arriving now (before the frame at `atMs`), evidence first: see
    /// ``commit(_:to:)``. Throws `consentRefused` when the gate refuses it, `evidenceNotStored` when
    /// its evidence could not be stored.
    @discardableResult
    public func apply(_ kind: ConsentEventKind, method: ConsentMethod, atMs: Int64) throws(RecorderError)
        -> ConsentDecision
    {
        let pending = try decide(kind, method: method, atMs: atMs)
        try commit(pending.decision, to: pending.next)
        return pending.decision
    }

    /// A DTMF key from signalling (Twilio `dtmf`, AudioSocket 0x03) or detected in the audio.
    /// Keys that are not the tenant's consent or opt-out digit change nothing (and are not stored).
    @discardableResult
    public func apply(digit: DTMFDigit, atMs: Int64) throws(RecorderError) -> ConsentDecision? {
        guard let pending = try decide(digit: digit, atMs: atMs) else { return nil }
        try commit(pending.decision, to: pending.next)
        return pending.decision
    }

    /// Makes an accepted decision take effect, evidence first (GDPR Art. 7(1): the operator must be
    /// able to show the consent). The consent event, its audit entry and any paused span it closes
    /// are stored in one transaction, together with earlier evidence still unstored.
    ///
    /// - A decision after which nothing is recorded (deny, revoke, pause, or any event while not
    ///   recording) takes effect at once, stored or not: failing closed records less, never more.
    ///   If its evidence cannot be stored, it is kept and stored with the next event.
    /// - A decision after which audio is recorded takes effect only once its evidence is stored.
    /// - After any failed store, nothing is recorded until a later event's evidence is stored.
    private func commit(_ decision: ConsentDecision, to next: ConsentGate) throws(RecorderError) {
        let pending = prepare(decision, to: next)
        var failure: CatalogError?
        do {
            try requireCatalog().recordConsentEvidence(callID: callID, pending.evidence)
        } catch {
            failure = error
        }
        try settle(pending, failure: failure)
    }

    /// The first half of ``commit(_:to:)``: a decision after which nothing is recorded takes effect now;
    /// returns the evidence to store (earlier unstored evidence first).
    func prepare(_ decision: ConsentDecision, to next: ConsentGate) -> PendingEvidence {
        let recordsNothing = !next.admits
        if recordsNothing { gate = next }
        return PendingEvidence(
            decision: decision, next: next, recordsNothing: recordsNothing,
            evidence: unstoredEvidence + [ConsentEvidence(decision)])
    }

    /// The second half of ``commit(_:to:)``, once the store answered (`failure` nil: stored).
    func settle(_ pending: PendingEvidence, failure: CatalogError?) throws(RecorderError) {
        let decision = pending.decision
        if let error = failure {
            evidenceFailures += 1
            heldForEvidence = true
            if pending.recordsNothing { unstoredEvidence.append(ConsentEvidence(decision)) }
            updateAdmits()
            let effect =
                pending.recordsNothing
                ? "it took effect (nothing is recorded) and its evidence will be stored with the next event"
                : "it did not take effect, and nothing is recorded until a later event's evidence is stored"
            logger.error(
                "consent evidence not stored",
                metadata: ["call": "\(callID)", "kind": "\(decision.kind.rawValue)", "error": "\(error.message)"])
            throw RecorderError(
                .evidenceNotStored,
                "the \(decision.kind.rawValue) event of call \(callID) could not be stored (\(error.message)): \(effect)")
        }
        unstoredEvidence.removeAll()
        gate = pending.next
        heldForEvidence = false
        updateAdmits()
    }

    /// The SQLite catalog the synchronous methods write inline.
    func requireCatalog() throws(CatalogError) -> Catalog {
        guard let catalog else {
            throw CatalogError(
                .invalidArgument, "call \(callID): this recorder's catalog (\(store.location)) is written step by step")
        }
        return catalog
    }

    /// Hands over the evidence still unstored (the call's end stores it).
    func takeUnstoredEvidence() -> [ConsentEvidence] {
        defer { unstoredEvidence.removeAll() }
        return unstoredEvidence
    }

    /// Recomputes the per-frame flag: the gate admits and no evidence write failed since the last stored event.
    func updateAdmits() {
        admits = gate.admits && !heldForEvidence && !finished
    }

    /// One frame of one track: DTMF detection (caller track), the gate, then segment and seal.
    ///
    /// A consent decision made by a tone in this frame applies from the next frame; if it is refused
    /// or its evidence cannot be stored, it is counted (``eventsRefused``, ``evidenceFailures``) and
    /// logged, and the frame still follows the state before the tone.
    /// - Returns: a consent decision made by a tone detected in this frame, if any.
    @discardableResult
    public func receive(_ frame: Frame, track: RecordingTrack) throws(RecorderError) -> ConsentDecision? {
        var progress = FrameProgress()
        while let need = try advance(frame, track: track, progress: &progress) {
            switch need {
            case .evidence(let pending):
                var failure: CatalogError?
                do { try requireCatalog().recordConsentEvidence(callID: callID, pending.evidence) } catch { failure = error }
                settleInBand(pending, failure: failure, progress: &progress)
            case .recording(let track, let sampleRate):
                try openInline(track, sampleRate: sampleRate)
            }
        }
        return progress.decision
    }

    /// Segments sealed so far over all tracks (for metrics).
    public var segmentsSealed: Int { counters.segmentsSealed }
    /// Plaintext bytes sealed so far over all tracks (for metrics).
    public var bytesSealed: Int { counters.bytesSealed }
    /// Segments the data disk refused over all tracks (their audio is lost; the call goes on).
    public var segmentsLost: Int { counters.segmentsLost }
    /// See ``Counters/storageChanges``.
    public var storageChanges: Int { counters.storageChanges }

    /// Gaps that closed (writes succeed again), until taken.
    private var closedStorageGaps: [StorageGap] = []

    func write(_ frame: Frame, into state: Track) throws(RecorderError) {
        let writer = state.writer
        let before = writer.segmentCount
        let lostBefore = writer.lostSegmentCount
        do {
            try state.segmenter.append(frame, into: writer)
        } catch where error.code == .storageFailed {
            // The disk refused the segment (full, failing): its audio is lost, the call goes on and the
            // recording continues in the same file once a write succeeds (see `StorageGap`).
        }
        if writer.lostSegmentCount != lostBefore {
            counters.segmentsLost += writer.lostSegmentCount - lostBefore
            counters.storageChanges += 1
        }
        if writer.segmentCount != before {
            counters.segmentsSealed += writer.segmentCount - before
            counters.bytesSealed += state.segmenter.lastPayloadByteCount
            if let gap = writer.takeClosedGap() {
                closedStorageGaps.append(gap)
                counters.storageChanges += 1
            }
        }
        state.framesWritten += 1
    }

    /// Frames written to `track`'s recording so far (0 before it opened).
    public func framesWritten(on track: RecordingTrack) -> Int { tracks[track]?.framesWritten ?? 0 }

    /// The storage gaps open now (writes failing), one per track at most.
    public var openStorageGaps: [StorageGap] { openTracks.compactMap(\.writer.openGap) }

    /// The gaps that closed since the last call (writes succeed again after them).
    public func takeClosedStorageGaps() -> [StorageGap] {
        defer { closedStorageGaps.removeAll() }
        return closedStorageGaps
    }

    /// The key a caller frame's audio confirms, if any, when a key could still decide something; the
    /// detector (≈ 2 µs a frame) does not run otherwise, and hears only whole audio when it runs again.
    func detect(_ frame: Frame) throws(RecorderError) -> DTMFDigit? {
        guard keysCanDecide else {
            detectorSkipped = true
            return nil
        }
        if detectorSkipped {
            detectorSkipped = false
            detector?.reset()
        }
        framesScannedForKeys += 1
        if detectorRate != frame.sampleRate {
            do {
                detector = try DTMFDetector(sampleRate: frame.sampleRate)
            } catch {
                throw RecorderError(.invalidArgument, "no DTMF detector at \(frame.sampleRate): \(error.message)")
            }
            detectorRate = frame.sampleRate
        }
        return detector?.process(UnsafeBufferPointer(frame.samples))
    }

    /// Opens a track's recording inline on the SQLite catalog.
    private func openInline(_ track: RecordingTrack, sampleRate: SampleRate) throws(RecorderError) {
        let segmenter = try Segmenter(
            codec: settings.storageCodec, sampleRate: sampleRate, framesPerSegment: settings.framesPerSegment)
        let writer = try RecordingWriter(
            catalog: try catalogForWriters(), keyStore: keyStore, dataDirectory: dataDirectory, callID: callID,
            track: track, codec: settings.storageCodec, sampleRate: sampleRate.rawValue,
            maxSegmentByteCount: segmenter.maxPayloadByteCount, flushGroup: flushGroup,
            providerRoundTrip: settings.providerRoundTrip)
        tracks[track] = Track(segmenter: segmenter, writer: writer)
    }

    private func catalogForWriters() throws(RecorderError) -> Catalog {
        do { return try requireCatalog() } catch { throw RecorderError(.catalogFailed, error.message) }
    }

    /// Ends the call: seals each track's last segment (marked `last`), marks recordings complete and
    /// queues transcription (one transaction per recording), stores evidence still unstored, and
    /// closes an open pause and the call (one transaction). Idempotent.
    public func finish(atMs: Int64) throws(RecorderError) {
        guard let ending = sealForEnd(atMs: atMs) else { return }
        var firstError = ending.sealError
        for completion in ending.completions {
            do {
                // One transaction per recording: its `complete` state and its transcription job.
                _ = try requireCatalog().completeRecording(
                    id: completion.recordingID, durationMs: completion.durationMs, bytes: completion.bytes,
                    transcriptionEngine: completion.transcriptionEngine)
            } catch {
                firstError =
                    firstError
                    ?? RecorderError(
                        .catalogFailed,
                        "recording \(completion.recordingID) is sealed but the catalog failed: \(error.message)")
            }
        }
        do {
            let catalog = try requireCatalog()
            if !ending.unstoredEvidence.isEmpty {
                try catalog.recordConsentEvidence(callID: callID, ending.unstoredEvidence)
            }
            try catalog.endCall(id: callID, closingPause: ending.openPause)
        } catch {
            firstError = firstError ?? RecorderError(.catalogFailed, "call \(callID) not closed in the catalog: \(error.message)")
        }
        if let firstError { throw firstError }
    }
}

extension ConsentEvidence {
    /// The evidence an accepted decision leaves: its event and the paused span it closes.
    init(_ decision: ConsentDecision) {
        self.init(
            kind: decision.kind, method: decision.method, timelineMs: decision.timelineMs,
            closedPause: decision.closedPause)
    }
}
