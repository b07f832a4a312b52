public import CallVaultArchive
public import CallVaultAudio
public import CallVaultModel
import CallVaultStore
import Foundation

/// The recorder driven step by step, for callers that must not wait for the catalog on their thread
/// (the ingest's event loops): each step either finishes on local state alone or stops with what it
/// needs stored (``CatalogNeed``); the caller stores it elsewhere, then resumes with the outcome. The
/// synchronous methods run the very same steps with the SQLite catalog inline, so the consent rules
/// (evidence first; failing closed) are one implementation.
extension CallRecorder {
    /// Consent evidence waiting to be stored: the decision, the gate state it leads to, and the evidence
    /// to store in one transaction (earlier unstored evidence first).
    public struct PendingEvidence: Sendable {
        public let decision: ConsentDecision
        let next: ConsentGate
        let recordsNothing: Bool
        public let evidence: [ConsentEvidence]
    }

    /// What a step needs from the catalog before it can go on.
    public enum CatalogNeed: Sendable {
        /// Store this evidence, then ``settle(_:failure:progress:)``.
        case evidence(PendingEvidence)
        /// Create this track's recording row (``newRecording(_:sampleRate:tenantID:)``), then ``open(_:)``.
        case recording(RecordingTrack, SampleRate)
    }

    /// Where one frame's processing stands across steps.
    public struct FrameProgress: Sendable {
        /// DTMF detection ran on this frame already (a tone decides once).
        var detected = false
        /// Whether the gate admitted frames before a tone in this frame (the frame follows that state).
        var admittedBefore: Bool?
        /// A consent decision a tone in this frame made.
        public internal(set) var decision: ConsentDecision?

        public init() {}
    }

    /// Decides a consent event arriving now, without storing it: a refusal throws `consentRefused`
    /// (counted); a decision after which nothing is recorded takes effect at once (failing closed);
    /// one that records takes effect only in ``settle(_:failure:)``, once its evidence is stored.
    public func decide(_ kind: ConsentEventKind, method: ConsentMethod, atMs: Int64) throws(RecorderError)
        -> PendingEvidence
    {
        var next = gate
        let decision: ConsentDecision
        do {
            decision = try next.apply(kind, method: method, atMs: atMs)
        } catch {
            counters.eventsRefused += 1
            throw RecorderError(.consentRefused, error.message)
        }
        return prepare(decision, to: next)
    }

    /// The same for a DTMF key; nil when the key is neither the consent nor the opt-out digit.
    public func decide(digit: DTMFDigit, atMs: Int64) throws(RecorderError) -> PendingEvidence? {
        var next = gate
        let decision: ConsentDecision?
        do {
            decision = try next.apply(digit: digit, atMs: atMs)
        } catch {
            counters.eventsRefused += 1
            throw RecorderError(.consentRefused, error.message)
        }
        return decision.map { prepare($0, to: next) }
    }

    /// One step of one frame: DTMF detection (caller track), the gate, then segment and seal into an
    /// open track. Returns nil when the frame is done (written or dropped), or what it needs first; call
    /// again with the same `progress` once that is settled.
    public func advance(_ frame: Frame, track: RecordingTrack, progress: inout FrameProgress) throws(RecorderError)
        -> CatalogNeed?
    {
        guard !finished else { throw RecorderError(.writerClosed, "call \(callID) has ended") }
        if !progress.detected {
            progress.detected = true
            if track == .caller && settings.detectInBandDTMF, let digit = try detect(frame) {
                // The tone decides from the next frame on: this frame still follows the old state.
                progress.admittedBefore = admits
                do {
                    if let pending = try decide(digit: digit, atMs: frame.endMs) {
                        progress.decision = pending.decision
                        return .evidence(pending)
                    }
                } catch {
                    // Counted by `decide`; the caller cannot be answered in-band.
                    logger.notice(
                        "in-band consent key not applied", metadata: ["call": "\(callID)", "reason": "\(error.code)"])
                }
            }
        }
        guard progress.admittedBefore ?? admits else {
            counters.framesDropped += 1
            return nil
        }
        guard let state = tracks[track] else { return .recording(track, frame.sampleRate) }
        try write(frame, into: state)
        return nil
    }

    /// Settles an in-band key's evidence (from ``advance(_:track:progress:)``): a failure is counted and
    /// logged, never thrown, since the caller cannot be answered in-band.
    public func settleInBand(_ pending: PendingEvidence, failure: CatalogError?, progress: inout FrameProgress) {
        do {
            try settle(pending, failure: failure)
        } catch {
            logger.notice("in-band consent key not applied", metadata: ["call": "\(callID)", "reason": "\(error.code)"])
        }
    }

    /// Settles a signalled or API event's evidence: `evidenceNotStored` when the store failed.
    public func settleEvent(_ pending: PendingEvidence, failure: CatalogError?) throws(RecorderError) {
        try settle(pending, failure: failure)
    }

    /// The row a track's first admitted frame needs, in the storage codec.
    public func newRecording(_ track: RecordingTrack, sampleRate: SampleRate, tenantID: String) throws(RecorderError)
        -> NewRecording
    {
        try NewRecording(
            tenantID: tenantID, callID: callID, track: track, codec: settings.storageCodec,
            sampleRate: sampleRate.rawValue)
    }

    /// Opens a track whose row was created elsewhere: its segmenter, data key and file.
    /// On failure the caller abandons the row (``RecordingWriter/abandon(_:_:because:)``).
    public func open(_ record: RecordingRecord) throws(RecorderError) {
        install(try trackOpener.open(record))
    }

    /// What opening a track needs, usable on another thread than the recorder's: the ingest opens a
    /// track (a key-store write, the file created and synced) in the call's queue, off the event loop.
    public var trackOpener: TrackOpener {
        TrackOpener(
            store: store, keyStore: keyStore, dataDirectory: dataDirectory, flushGroup: flushGroup,
            settings: settings)
    }

    /// Takes over a track opened by ``trackOpener``.
    public func install(_ opened: OpenedTrack) {
        tracks[opened.track.writer.recording.track] = opened.track
    }

    /// Opens tracks of one call: see ``CallRecorder/trackOpener``.
    public struct TrackOpener: Sendable {
        let store: any CatalogStore
        let keyStore: KeyStore
        let dataDirectory: DataDirectory
        let flushGroup: FlushGroup?
        let settings: Settings

        /// The segmenter, data key (with `.forbidden`, never a provider round trip) and sealed file of a
        /// track whose row exists.
        public func open(_ record: RecordingRecord) throws(RecorderError) -> OpenedTrack {
            guard let sampleRate = SampleRate(rawValue: record.sampleRate) else {
                throw RecorderError(.invalidArgument, "no sample rate \(record.sampleRate)")
            }
            let segmenter = try Segmenter(
                codec: settings.storageCodec, sampleRate: sampleRate, framesPerSegment: settings.framesPerSegment)
            let writer = try RecordingWriter(
                opening: record, store: store, keyStore: keyStore, dataDirectory: dataDirectory,
                maxSegmentByteCount: segmenter.maxPayloadByteCount, flushGroup: flushGroup,
                providerRoundTrip: settings.providerRoundTrip)
            return OpenedTrack(track: Track(segmenter: segmenter, writer: writer))
        }
    }

    /// A track opened on one thread and handed to the recorder's: nothing else holds its segmenter and
    /// writer (they are made for it and passed on once), so the hand-over is the only crossing.
    public struct OpenedTrack: @unchecked Sendable {
        let track: Track
    }

    /// What ending the call leaves for the catalog, once its files are sealed.
    public struct Ending: Sendable {
        /// The first track that could not be sealed (the others were).
        public let sealError: RecorderError?
        /// Each sealed recording's `complete` state and job.
        public let completions: [RecordingWriter.Completion]
        /// Evidence of decisions that took effect unstored.
        public let unstoredEvidence: [ConsentEvidence]
        /// The pause the end closes.
        public let openPause: PausedSpan?
    }

    /// Ends the call's recording locally: seals each track's last segment (marked `last`) and returns
    /// what the catalog must then store, in this order: each recording complete (with its job), the
    /// unstored evidence, the call's end. Nil when the call had already ended.
    public func sealForEnd(atMs: Int64) -> Ending? {
        guard let work = takeEnding(atMs: atMs) else { return nil }
        let sealed = work.seal()
        return Ending(
            sealError: sealed.error, completions: sealed.completions, unstoredEvidence: work.unstoredEvidence,
            openPause: work.openPause)
    }

    /// Ends the call (nothing more is recorded) and hands over its tracks to be sealed elsewhere: the
    /// ingest seals them (a last write and `fdatasync` each) in the call's queue, off the event loop.
    /// Nil when the call had already ended.
    public func takeEnding(atMs: Int64) -> EndingWork? {
        guard !finished else { return nil }
        finished = true
        let openPause = gate.end(atMs: atMs)
        updateAdmits()
        return EndingWork(
            tracks: openTracks, unstoredEvidence: takeUnstoredEvidence(), openPause: openPause)
    }

    /// A finished call's tracks to seal, and what its end stores. The recorder no longer touches the
    /// tracks once it handed them over (every step refuses after the end), so they cross threads once.
    public struct EndingWork: @unchecked Sendable {
        let tracks: [Track]
        /// Evidence of decisions that took effect unstored.
        public let unstoredEvidence: [ConsentEvidence]
        /// The pause the end closes.
        public let openPause: PausedSpan?

        /// Seals each track's last segment (marked `last`), syncs and closes its file; returns the first
        /// failure (the other tracks are still sealed) and each sealed recording's completion.
        ///
        /// Tracks sealed by an earlier call are skipped, so a seal the disk refused (`storageFailed`: the
        /// file still ends at its last whole segment) can be tried again once it takes writes; the retry
        /// seals with an empty `last` segment (the unwritten remainder is part of the gap).
        public func seal() -> (error: RecorderError?, completions: [RecordingWriter.Completion]) {
            var firstError: RecorderError?
            var completions: [RecordingWriter.Completion] = []
            for state in tracks where !state.writer.isFinished {
                do throws(RecorderError) {
                    let rest = state.segmenter.takeRemainder()
                    try state.writer.seal(lastSegment: rest?.payload, frameCount: rest?.frameCount ?? 0)
                    completions.append(state.writer.completion)
                } catch {
                    firstError = firstError ?? error
                }
            }
            return (firstError, completions)
        }

        /// Each track's storage gap that is still open or closed unreported (once): after ``seal()``.
        public func takeStorageGaps() -> [StorageGap] {
            tracks.compactMap { $0.writer.takeClosedGap() ?? $0.writer.takeOpenGap() }
        }
    }
}
