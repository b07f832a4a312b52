public import CallVaultAudio
public import CallVaultStore
import Foundation
public import Logging

/// Records one call: the consent gate, in-band DTMF detection, and per track (caller, bot) a
/// segmenter and a recording writer — the hot path from frame to sealed file.
///
/// One instance per call, used from one thread (the call's event loop). A track's recording is
/// opened at its first admitted frame, so a call that never gets consent leaves no recording at all.
/// `receive` allocates nothing once both tracks are open; opening a track and recording consent
/// evidence touch the catalog and may block briefly.
public final class CallRecorder {
    /// What a call needs from its tenant and the server.
    public struct Settings: Sendable {
        public var policy: ConsentPolicy
        /// The concrete codec recordings are stored in (the tenant's codec, `native` resolved).
        public var storageCodec: StorageCodec
        public var framesPerSegment: Int
        /// Detect DTMF tones in the caller's audio (in-band) as well as from signalling.
        public var detectInBandDTMF: Bool

        public init(
            policy: ConsentPolicy, storageCodec: StorageCodec, framesPerSegment: Int = 50,
            detectInBandDTMF: Bool = true
        ) {
            self.policy = policy
            self.storageCodec = storageCodec
            self.framesPerSegment = framesPerSegment
            self.detectInBandDTMF = detectInBandDTMF
        }
    }

    public let callID: String
    public let settings: Settings
    public private(set) var gate: ConsentGate
    /// Frames the gate did not let through, per call.
    public private(set) var framesDropped = 0
    public private(set) var framesWritten = 0
    /// Consent events refused by the gate (reported to the sender, never applied).
    public private(set) var eventsRefused = 0

    let catalog: Catalog
    let keyStore: KeyStore
    let dataDirectory: DataDirectory
    let flushGroup: FlushGroup?
    let logger: Logger
    private var tracks: [RecordingTrack: Track] = [:]
    private var detector: DTMFDetector?
    private var detectorRate: SampleRate?
    private var finished = false

    /// One track's segmenter and writer.
    final class Track {
        let segmenter: Segmenter
        let writer: RecordingWriter
        init(segmenter: Segmenter, writer: RecordingWriter) {
            self.segmenter = segmenter
            self.writer = writer
        }
    }

    public init(
        callID: String, settings: Settings, catalog: Catalog, keyStore: KeyStore, dataDirectory: DataDirectory,
        flushGroup: FlushGroup?, logger: Logger
    ) {
        self.callID = callID
        self.settings = settings
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.flushGroup = flushGroup
        self.logger = logger
        gate = ConsentGate(policy: settings.policy)
    }

    /// The recordings opened so far, by track.
    public var recordingIDs: [RecordingTrack: String] { tracks.mapValues { $0.writer.recording.id } }

    /// Replays consent events stored before the stream started (e.g. `POST /v1/calls/{id}/events`
    /// sent while no stream was open), at the start of the timeline. Refused ones are skipped.
    public func replayStoredEvents() {
        guard let events = try? catalog.consentEvents(callID: callID) else { return }
        for event in events { _ = try? gate.apply(event.kind, method: event.method, atMs: 0) }
    }

    /// Applies a consent event arriving now (before the frame at `atMs`) and stores it as evidence.
    @discardableResult
    public func apply(_ kind: ConsentEventKind, method: ConsentMethod, atMs: Int64) throws(RecorderError)
        -> ConsentDecision
    {
        let decision: ConsentDecision
        do {
            decision = try gate.apply(kind, method: method, atMs: atMs)
        } catch {
            eventsRefused += 1
            throw RecorderError(.invalidArgument, error.message)
        }
        try store(decision)
        return decision
    }

    /// A DTMF key from signalling (Twilio `dtmf`, AudioSocket 0x03) or detected in the audio.
    /// Keys that are not the tenant's consent or opt-out digit change nothing (and are not stored).
    @discardableResult
    public func apply(digit: DTMFDigit, atMs: Int64) throws(RecorderError) -> ConsentDecision? {
        let decision: ConsentDecision?
        do {
            decision = try gate.apply(digit: digit, atMs: atMs)
        } catch {
            eventsRefused += 1
            throw RecorderError(.invalidArgument, error.message)
        }
        if let decision { try store(decision) }
        return decision
    }

    /// Stores an accepted decision: the consent event (catalog + audit log) and a closed paused span.
    private func store(_ decision: ConsentDecision) throws(RecorderError) {
        do {
            try catalog.recordConsentEvent(
                callID: callID, kind: decision.kind, method: decision.method, timelineMs: decision.timelineMs)
            if let span = decision.closedPause {
                try catalog.addPausedSpan(callID: callID, startMs: span.startMs, endMs: span.endMs)
            }
        } catch {
            throw RecorderError(.catalogFailed, "consent event of call \(callID) not stored: \(error.message)")
        }
    }

    /// One frame of one track: DTMF detection (caller track), the gate, then segment and seal.
    /// - Returns: a consent decision made by a tone detected in this frame, if any.
    @discardableResult
    public func receive(_ frame: Frame, track: RecordingTrack) throws(RecorderError) -> ConsentDecision? {
        guard !finished else { throw RecorderError(.writerClosed, "call \(callID) has ended") }
        var decision: ConsentDecision?
        if track == .caller && settings.detectInBandDTMF {
            if let digit = try detect(frame) {
                // The tone decides from the next frame on: this frame still follows the old state.
                let admitted = gate.admits
                decision = try? apply(digit: digit, atMs: frame.timestampMs + 20)
                if !admitted { framesDropped += 1; return decision }
                try write(frame, track: track)
                return decision
            }
        }
        guard gate.admits else {
            framesDropped += 1
            return nil
        }
        try write(frame, track: track)
        return decision
    }

    /// Segments sealed so far over all tracks (for metrics).
    public private(set) var segmentsSealed = 0
    /// Plaintext bytes sealed so far over all tracks (for metrics).
    public private(set) var bytesSealed = 0

    private func write(_ frame: Frame, track: RecordingTrack) throws(RecorderError) {
        let state: Track
        if let existing = tracks[track] {
            state = existing
        } else {
            state = try open(track, sampleRate: frame.sampleRate)
        }
        let before = state.writer.segmentCount
        try state.segmenter.append(frame, into: state.writer)
        if state.writer.segmentCount != before {
            segmentsSealed += state.writer.segmentCount - before
            bytesSealed += state.segmenter.lastPayloadByteCount
        }
        framesWritten += 1
    }

    private func detect(_ frame: Frame) throws(RecorderError) -> DTMFDigit? {
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

    private func open(_ track: RecordingTrack, sampleRate: SampleRate) throws(RecorderError) -> Track {
        let segmenter = try Segmenter(
            codec: settings.storageCodec, sampleRate: sampleRate, framesPerSegment: settings.framesPerSegment)
        let writer = try RecordingWriter(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, callID: callID, track: track,
            codec: settings.storageCodec, sampleRate: sampleRate.rawValue,
            maxSegmentByteCount: segmenter.maxPayloadByteCount, flushGroup: flushGroup)
        let state = Track(segmenter: segmenter, writer: writer)
        tracks[track] = state
        return state
    }

    /// Ends the call: seals each track's last segment (marked `last`), marks recordings complete,
    /// queues transcription, closes an open pause and the call. Idempotent.
    public func finish(atMs: Int64) throws(RecorderError) {
        guard !finished else { return }
        finished = true
        let openPause = gate.end(atMs: atMs)
        var firstError: RecorderError?
        for state in tracks.values {
            do throws(RecorderError) {
                let rest = state.segmenter.takeRemainder()
                try state.writer.finish(lastSegment: rest?.payload, frameCount: rest?.frameCount ?? 0)
            } catch {
                firstError = firstError ?? error
            }
        }
        do {
            if let openPause { try catalog.addPausedSpan(callID: callID, startMs: openPause.startMs, endMs: openPause.endMs) }
            try catalog.endCall(id: callID)
        } catch {
            firstError = firstError ?? RecorderError(.catalogFailed, "call \(callID) not closed in the catalog: \(error.message)")
        }
        if let firstError { throw firstError }
    }
}
