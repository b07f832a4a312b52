import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import NIOCore

/// What every media stream does whatever its protocol: admission under the server's limits, the
/// call's recorder (tenant key checked, stored consent events replayed), registration as a live call,
/// consent events from signalling and the control API (evidence first; refusals reported and
/// counted), the limit clocks, and the end — last frames flushed, recordings sealed, the call closed —
/// exactly once.
///
/// Nothing here waits for the catalog on the event loop (issue 14). Every catalog operation of the call
/// (finding or registering it, consent evidence, a track's recording row, completion, the end) goes to
/// the call's ``CallCatalogQueue``, in the order issued; its answer comes back to the loop. While one is
/// under way the loop goes on reading: later frames (and events) are held in the call's bounded
/// ``HeldFrames`` and recorded in arrival order once it answered, exactly as they would have been had it
/// answered at once. So evidence first still holds: a frame after a consent is judged only once the
/// consent's evidence is stored (sealed) or known not to be (then the consent did not take effect).
///
/// One per stream, used on the stream's event loop only. The Twilio, binary and AudioSocket sessions
/// each own one and add only their protocol's parsing, so the three cannot drift apart.
final class CallLifecycle: ConsentEventTarget {
    let context: IngestContext
    let eventLoop: any EventLoop
    /// The call's recorder, once the call is set up.
    private(set) var recorder: CallRecorder?
    /// The call's catalog row, once set up.
    private(set) var callRecord: CallRecord?
    /// The catalog id of the call, once set up.
    var callID: String? { callRecord?.id }
    /// Whether the stream asked for a call (`start`, a header, a UUID): its frames are taken from then on.
    private(set) var started = false
    /// The end of the newest frame recorded (or dropped by the gate): events apply from there.
    private(set) var timelineMs: Int64 = 0
    /// The end of the newest frame received (held or recorded).
    private(set) var receivedTimelineMs: Int64 = 0
    /// When the newest media message arrived (for the idle timeout and the seal latency).
    private(set) var lastMediaAt = NIODeadline.now()
    /// Reaches the stream from a later loop turn (a catalog answer that refuses the call, reading paused
    /// while frames are held); set by the handler.
    var control: MediaStreamControl?
    /// Called once the call is set up and registered (not when it is refused: that goes to ``control``),
    /// for protocols that answer their peer only then (a SIP INVITE gets its 200 OK).
    var onSetUp: (() -> Void)?
    /// Reading from the stream is paused: more frames are held than ``HeldFrames/pauseAt``.
    private(set) var readingPaused = false
    private let startedAt = NIODeadline.now()
    /// The media protocol of the stream, for ``LiveCallSnapshot``.
    let mediaProtocol: LiveCallSnapshot.MediaProtocol
    /// When this process set the call up (for ``LiveCallSnapshot``).
    private(set) var connectedAt = Date()
    /// Frames taken per track: two integers, one add per frame (the recorder counts those written).
    private(set) var framesIn = PerTrack(caller: 0, bot: 0)
    private var live: LiveCallHandle?
    private var admittedTenant: String?
    private(set) var tenant: Tenant?
    var ended = false
    /// The end reason once the stream ended: the call is finished when nothing is held any more.
    var ending: MediaClose?
    var finished = false
    /// A catalog operation is under way: frames and events wait in `held` / `events`.
    var waiting = false
    let held = HeldFrames()
    /// Events waiting behind held frames: each applies once the frames before it (`sequence`) are recorded.
    var events: [(sequence: Int, event: HeldEvent)] = []
    /// The progress of the oldest held frame, suspended at a catalog operation.
    private var progress = CallRecorder.FrameProgress()
    let queue: CallCatalogQueue
    /// Completed once the call's catalog work is done after its end (or at once if it never started).
    private let storedPromise: EventLoopPromise<Void>
    /// See ``MediaSession/stored``: set once the stream ended.
    private(set) var stored: EventLoopFuture<Void>?

    enum HeldEvent {
        case event(ConsentEventKind, ConsentMethod, EventLoopPromise<ConsentEventOutcome>)
        case digit(DTMFDigit)
    }

    init(context: IngestContext, eventLoop: any EventLoop, mediaProtocol: LiveCallSnapshot.MediaProtocol) {
        self.context = context
        self.eventLoop = eventLoop
        self.mediaProtocol = mediaProtocol
        queue = CallCatalogQueue(executor: context.catalogExecutor)
        storedPromise = eventLoop.makePromise(of: Void.self)
    }

    deinit {
        storedPromise.succeed(())  // never left pending (a promise must be completed)
    }

    // MARK: Start

    /// Starts setting up a call off the loop: finds the tenant (`findTenant`), admits the stream under
    /// the limits, finds or registers the call (`findCall`), checks the tenant's keys and reads the call's
    /// stored consent events; then, back on the loop, makes the recorder and registers the live call.
    /// Frames taken meanwhile are held. A refusal closes the stream with its reason (via ``control``),
    /// nothing of it recorded.
    /// - Parameter native: the codec the audio arrives in, stored as is when the tenant keeps `native`.
    func begin(
        arrivedAs native: StorageCodec,
        findTenant: @escaping @Sendable () async throws(MediaClose) -> Tenant,
        findCall: @escaping @Sendable (Tenant) async throws(MediaClose) -> CallRecord
    ) {
        started = true
        waiting = true
        let context = self.context
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        queue.enqueue {
            let outcome: Result<CallSetUp, MediaClose>
            do throws(MediaClose) {
                let tenant = try await findTenant()
                if let refused = context.admit(tenant) { throw refused }
                do throws(MediaClose) {
                    let call = try await findCall(tenant)
                    let events = try await context.prepareRecording(call, tenant: tenant)
                    outcome = .success(CallSetUp(tenant: tenant, call: call, events: events))
                } catch {
                    context.admission.release(tenantID: tenant.id)
                    throw error
                }
            } catch {
                outcome = .failure(error)
            }
            bound.eventLoop.execute { bound.value.setUp(outcome, arrivedAs: native) }
        }
    }

    private struct CallSetUp: Sendable {
        let tenant: Tenant
        let call: CallRecord
        let events: [ConsentEventRecord]
    }

    private func setUp(_ outcome: Result<CallSetUp, MediaClose>, arrivedAs native: StorageCodec) {
        waiting = false
        switch outcome {
        case .failure(let close):
            refuse(close)
        case .success(let setUp):
            admittedTenant = setUp.tenant.id
            tenant = setUp.tenant
            callRecord = setUp.call
            connectedAt = Date()
            recorder = context.makeRecorder(setUp.call, tenant: setUp.tenant, arrivedAs: native, replaying: setUp.events)
            if ended {
                // The stream went away while the call was being set up: close the call, nothing recorded.
                context.admission.release(tenantID: setUp.tenant.id)
                ending = ending ?? MediaClose(code: 1006, reason: "connection lost")
            } else {
                let handle = LiveCallHandle(self, eventLoop: eventLoop)
                live = handle
                context.liveCalls.insert(handle, id: setUp.call.id)
                context.metrics.activeCalls.increment()
                onSetUp?()
            }
            onSetUp = nil
            pump()
        }
    }

    /// Refuses the call: drops what was held (nothing of it is recorded) and closes the stream.
    private func refuse(_ close: MediaClose) {
        onSetUp = nil
        held.removeAll()
        failEvents("the call was refused: \(close.reason)")
        let control = self.control
        self.control = nil
        if ending != nil || ended {
            storedPromise.succeed(())  // nothing was set up: nothing to store
        } else {
            control?.close(close)
        }
    }

    // MARK: Frames

    /// Notes that a media message arrived now (before its frames are taken).
    func noteMedia() -> NIODeadline {
        lastMediaAt = .now()
        return lastMediaAt
    }

    /// Takes one frame of the call: recorded now (counted; the gate decides) when nothing is under way,
    /// else held to be recorded in order. Returns the close when the call must end (its recording
    /// failed, or more frames arrived than can be held while the catalog did not answer).
    func take(_ frame: Frame, track: RecordingTrack) -> MediaClose? {
        context.metrics.framesIn.increment()
        framesIn[track] += 1
        receivedTimelineMs = max(receivedTimelineMs, frame.endMs)
        if !waiting && held.isEmpty && events.isEmpty && recorder != nil {
            var progress = CallRecorder.FrameProgress()
            switch step(frame, track: track, receivedAt: lastMediaAt, progress: &progress) {
            case .done: return nil
            case .failed(let close): return close
            case .needs(let need):
                // Suspended: the frame waits (copied) at the head of the held frames.
                _ = held.append(frame, track: track, receivedAt: lastMediaAt)
                self.progress = progress
                return issue(need)
            }
        }
        guard held.append(frame, track: track, receivedAt: lastMediaAt, growing: true) else {
            context.metrics.callRefused("catalogSlow")
            context.logger.error(
                "call closed: the catalog did not answer while its frames could be held",
                metadata: ["call": "\(callID ?? "?")", "held": "\(held.capacity)"])
            held.removeAll()
            return .serverError("the catalog did not answer in time (\(held.capacity) frames held); retry")
        }
        if !readingPaused, held.count >= HeldFrames.pauseAt, let control {
            // The sender is ahead of the catalog: stop reading (TCP holds the rest) until it catches up.
            readingPaused = true
            context.metrics.readsPaused.increment()
            control.pauseReading(true)
        }
        return nil
    }

    private enum Step {
        case done
        case needs(CallRecorder.CatalogNeed)
        case failed(MediaClose)
    }

    /// One step of one frame through the recorder, counted: frames the gate dropped, consent keys
    /// refused, segments and bytes sealed and the seal latency (atomic increments only: no allocation).
    private func step(
        _ frame: Frame, track: RecordingTrack, receivedAt: NIODeadline, progress: inout CallRecorder.FrameProgress
    ) -> Step {
        guard let recorder else { return .failed(.serverError("the call is not set up")) }
        let before = recorder.counters
        let need: CallRecorder.CatalogNeed?
        do {
            need = try recorder.advance(frame, track: track, progress: &progress)
        } catch {
            return .failed(recordingFailed(error, otherwise: "recording failed; the call's audio so far is kept"))
        }
        let after = recorder.counters
        if after != before { count(after, since: before, recorder: recorder, receivedAt: receivedAt) }
        guard let need else {
            timelineMs = max(timelineMs, frame.endMs)
            return .done
        }
        return .needs(need)
    }

    /// Counts what one step changed (a dropped frame, a refused key, a sealed segment, the disk).
    private func count(
        _ after: CallRecorder.Counters, since before: CallRecorder.Counters, recorder: CallRecorder, receivedAt: NIODeadline
    ) {
        let metrics = context.metrics
        // The disk refused a segment, or took one again after refusing.
        if after.storageChanges != before.storageChanges { noteStorage(recorder, lostBefore: before.segmentsLost) }
        if after.framesDropped != before.framesDropped { metrics.framesDroppedByGate.increment() }
        // An in-band key the gate refused (logged by the recorder).
        if after.eventsRefused != before.eventsRefused { metrics.consentEventsRefused.increment() }
        if after.segmentsSealed != before.segmentsSealed {
            metrics.segmentsSealed.increment(by: Int64(after.segmentsSealed - before.segmentsSealed))
            metrics.bytesSealed.increment(by: Int64(after.bytesSealed - before.bytesSealed))
            metrics.sealLatency.recordNanoseconds((NIODeadline.now() - receivedAt).nanoseconds)
        }
    }

    /// Records what is held, in order, until a frame needs the catalog or nothing is left; then finishes
    /// the call if its stream ended.
    func pump() {
        while !waiting, recorder != nil {
            if let first = events.first, first.sequence <= held.head {
                events.removeFirst()
                apply(first.event)
                continue
            }
            guard let (frame, track, receivedAt) = held.first() else { break }
            switch step(frame, track: track, receivedAt: receivedAt, progress: &progress) {
            case .done:
                held.removeFirst()
                progress = CallRecorder.FrameProgress()
            case .needs(let need):
                if let close = issue(need) { return fail(close) }
                return resumeReadingIfCaughtUp()
            case .failed(let close):
                return fail(close)
            }
        }
        resumeReadingIfCaughtUp()
        finishIfDone()
    }

    /// Resumes reading once the held frames are down to ``HeldFrames/resumeAt``; the idle clock restarts
    /// (the silence was ours, not the caller's).
    private func resumeReadingIfCaughtUp() {
        guard readingPaused, held.count <= HeldFrames.resumeAt else { return }
        readingPaused = false
        lastMediaAt = .now()
        control?.pauseReading(false)
    }

    /// A frame's recording failed: what is held is dropped and the stream closed with `close`.
    private func fail(_ close: MediaClose) {
        held.removeAll()
        progress = CallRecorder.FrameProgress()
        failEvents("the call's recording failed")
        if ending != nil || ended {
            finishIfDone()
        } else {
            control?.close(close)
        }
    }

    /// Starts the catalog operation a suspended frame needs; its answer resumes ``pump()``.
    private func issue(_ need: CallRecorder.CatalogNeed) -> MediaClose? {
        guard let recorder, let callID, let tenant else { return .serverError("the call is not set up") }
        let store = context.catalog
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        switch need {
        case .evidence(let pending):
            waiting = true
            queue.enqueue {
                let failure = await Self.store(pending.evidence, callID: callID, in: store)
                bound.eventLoop.execute { bound.value.settledInBand(pending, failure: failure) }
            }
        case .recording(let track, let sampleRate):
            let plan: NewRecording
            do { plan = try recorder.newRecording(track, sampleRate: sampleRate, tenantID: tenant.id) } catch {
                return recordingFailed(error, otherwise: "recording failed; the call's audio so far is kept")
            }
            waiting = true
            let opener = recorder.trackOpener
            let node = context.node
            let storage = context.fileStorage
            queue.enqueue {
                // The row, then the track's data key and sealed file (a key-store write, a created and
                // synced file): all off the loop, which gets the open track.
                let opened: Result<CallRecorder.OpenedTrack, RecorderError>
                do throws(CatalogError) {
                    let record = try await plan.createRow(in: store, node: node, storage: storage)
                    do throws(RecorderError) {
                        opened = .success(try opener.open(record))
                    } catch {
                        await RecordingWriter.abandon(store, record.id, because: error.code.rawValue)
                        opened = .failure(error)
                    }
                } catch {
                    opened = .failure(RecorderError(.catalogFailed, "cannot create the recording row: \(error.message)"))
                }
                bound.eventLoop.execute { bound.value.created(opened) }
            }
        }
        return nil
    }

    static func store(_ evidence: [ConsentEvidence], callID: String, in store: any CatalogStore) async
        -> CatalogError?
    {
        do throws(CatalogError) {
            _ = try await store.recordConsentEvidence(callID: callID, evidence, actor: "recorder", at: Date())
            return nil
        } catch {
            return error
        }
    }

    private func settledInBand(_ pending: CallRecorder.PendingEvidence, failure: CatalogError?) {
        waiting = false
        guard let recorder else { return }
        let unstored = recorder.evidenceFailures
        recorder.settleInBand(pending, failure: failure, progress: &progress)
        if recorder.evidenceFailures != unstored { context.metrics.consentEvidenceFailures.increment() }
        pump()
    }

    private func created(_ opened: Result<CallRecorder.OpenedTrack, RecorderError>) {
        waiting = false
        guard let recorder else { return }
        switch opened {
        case .failure(let error):
            fail(recordingFailed(error, otherwise: "recording failed; the call's audio so far is kept"))
        case .success(let track):
            recorder.install(track)
            pump()
        }
    }

    /// The close for a frame the recorder could not take (logged): a track whose recording could not
    /// open because the tenant's day key is not ready in memory is refused with a reason naming the
    /// tenant and the provider (nothing of it was recorded); any other failure with `otherwise`.
    func recordingFailed(_ error: any Error, otherwise: String) -> MediaClose {
        if let error = error as? RecorderError, error.code == .dayKeyNotReady, let tenant {
            return context.dayKeyNotReady(tenant, call: callID ?? "?")
        }
        context.logger.error("recording failed", metadata: ["call": "\(callID ?? "?")", "error": "\(error)"])
        if let refusal = context.storage?.refusal { return .serverError("recording failed: \(refusal)") }
        return .serverError(otherwise)
    }

    // MARK: Limits and the end

    /// The close to apply if a limit ran out (silence, call length), or nil; the call's end by a limit is
    /// audited through the call's queue.
    /// While reading is paused the caller is not silent, only unread: the idle clock does not run.
    func tick() -> MediaClose? {
        guard !ended else { return nil }
        return context.expired(
            startedAt: startedAt, lastMediaAt: readingPaused ? .now() : lastMediaAt, callID: callID, queue: queue)
    }

    /// Ends the stream exactly once: releases its admission and its live registration, holds each
    /// assembler's partial frame behind the others, and finishes the call once everything held is recorded.
    func end(_ reason: MediaClose, flushing assemblers: [(FrameAssembler?, RecordingTrack)]) {
        guard !ended else { return }
        ended = true
        stored = storedPromise.futureResult
        control = nil  // the handler's control holds the handler: break the cycle
        if let admittedTenant { context.admission.release(tenantID: admittedTenant) }
        guard recorder != nil || waiting else { return storedPromise.succeed(()) }
        if let live, let callID { context.liveCalls.remove(live, id: callID) }
        if live != nil { context.metrics.activeCalls.decrement() }
        live = nil  // the handle holds this lifecycle: break the cycle
        ending = reason
        for case (let assembler?, let track) in assemblers {
            guard let frame = assembler.flush() else { continue }
            if !held.append(frame, track: track, receivedAt: lastMediaAt) {
                context.logger.error("last partial frame not recorded", metadata: ["call": "\(callID ?? "?")"])
            }
        }
        pump()
    }

    /// Once the stream ended and nothing is held or under way: seals the recordings here (local files),
    /// then completes them, stores evidence still unstored and closes the call, in the call's queue.
    private func finishIfDone() {
        guard let reason = ending, !finished, !waiting, held.isEmpty, events.isEmpty, let recorder, let callID else {
            return
        }
        finished = true
        let timeline = timelineMs
        guard let ending = recorder.takeEnding(atMs: timeline) else { return storedPromise.succeed(()) }
        let store = context.catalog
        let logger = context.logger
        let storedPromise = self.storedPromise
        let tenantID = tenant?.id
        let storage = context.storage
        queue.enqueue {
            defer { storedPromise.succeed(()) }
            await Self.storeEnding(ending, callID: callID, tenantID: tenantID, in: store, storage: storage, logger: logger)
        }
        context.logger.info(
            "call ended",
            metadata: [
                "call": "\(callID)", "reason": "\(reason.code)", "framesWritten": "\(recorder.framesWritten)",
                "framesDropped": "\(recorder.framesDropped)",
            ])
    }
}
