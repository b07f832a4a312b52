import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import NIOCore

/// What every media stream does whatever its protocol: admission under the server's limits, the
/// call's recorder (tenant key checked, stored consent events replayed), registration as a live call,
/// consent events from signalling and the control API (evidence first; refusals reported and
/// counted), the limit clocks, and the end — last frames flushed, recordings sealed, the call closed —
/// exactly once.
///
/// One per stream, used on the stream's event loop only. The Twilio, binary and AudioSocket sessions
/// each own one and add only their protocol's parsing, so the three cannot drift apart.
final class CallLifecycle: ConsentEventTarget {
    let context: IngestContext
    let eventLoop: any EventLoop
    /// The call's recorder, once the stream has started a call.
    private(set) var recorder: CallRecorder?
    /// The catalog id of the call, once started.
    private(set) var callID: String?
    /// The end of the newest frame on the call's timeline: events apply from there.
    private(set) var timelineMs: Int64 = 0
    /// When the newest media message arrived (for the idle timeout and the seal latency).
    private(set) var lastMediaAt = NIODeadline.now()
    private let startedAt = NIODeadline.now()
    private var live: LiveCallHandle?
    private var admittedTenant: String?
    private var tenant: Tenant?
    private var ended = false

    init(context: IngestContext, eventLoop: any EventLoop) {
        self.context = context
        self.eventLoop = eventLoop
    }

    /// Starts recording a call of `tenant`: admits the stream, finds or registers the call with
    /// `findCall`, makes its recorder and registers it as live.
    /// - Parameter native: the codec the audio arrives in, stored as is when the tenant keeps `native`.
    /// - Returns: the close that refuses the stream (a limit, an unknown call, an unavailable store), or nil.
    func begin(
        tenant: Tenant, arrivedAs native: StorageCodec, findCall: () throws(MediaClose) -> CallRecord
    ) -> MediaClose? {
        if let refused = context.admit(tenant) { return refused }
        admittedTenant = tenant.id
        self.tenant = tenant
        let call: CallRecord
        do {
            call = try findCall()
            recorder = try context.recorder(for: call, tenant: tenant, arrivedAs: native)
        } catch {
            return error
        }
        callID = call.id
        let handle = LiveCallHandle(self, eventLoop: eventLoop)
        live = handle
        context.liveCalls.insert(handle, id: call.id)
        context.metrics.activeCalls.increment()
        return nil
    }

    /// The close for a frame the recorder could not take (logged): a track whose recording could not
    /// open because the tenant's day key is not ready in memory is refused with a reason naming the
    /// tenant and the provider (nothing of it was recorded); any other failure with `otherwise`.
    func recordingFailed(_ error: any Error, otherwise: String) -> MediaClose {
        if let error = error as? RecorderError, error.code == .dayKeyNotReady, let tenant {
            return context.dayKeyNotReady(tenant, call: callID ?? "?")
        }
        context.logger.error("recording failed", metadata: ["call": "\(callID ?? "?")", "error": "\(error)"])
        return .serverError(otherwise)
    }

    /// Notes that a media message arrived now (before its frames are recorded).
    func noteMedia() -> NIODeadline {
        lastMediaAt = .now()
        return lastMediaAt
    }

    /// Records one frame (counted; the gate decides) and moves the timeline to its end.
    func record(_ frame: Frame, track: RecordingTrack, by recorder: CallRecorder) throws(RecorderError) {
        try context.record(frame, track: track, by: recorder, receivedAt: lastMediaAt)
        timelineMs = max(timelineMs, frame.endMs)
    }

    /// A DTMF key from the protocol's signalling. A refusal or a failed evidence write is logged and
    /// counted: these protocols have no way to answer the sender.
    func applyDigit(_ digit: DTMFDigit) {
        guard let recorder else { return }
        do {
            try recorder.apply(digit: digit, atMs: timelineMs)
        } catch {
            report(error, event: "dtmf")
        }
    }

    /// A consent event from the control API; the outcome goes back to the API's caller.
    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod) -> ConsentEventOutcome {
        guard let recorder else { return .refused("the stream has not started a call yet") }
        do {
            try recorder.apply(kind, method: method, atMs: timelineMs)
            return .applied(recording: recorder.admits)
        } catch {
            report(error, event: kind.rawValue)
            return error.code == .consentRefused ? .refused(error.message) : .notStored(error.message)
        }
    }

    private func report(_ error: RecorderError, event: String) {
        if error.code == .consentRefused {
            context.metrics.consentEventsRefused.increment()
            context.logger.notice(
                "consent event refused", metadata: ["call": "\(callID ?? "?")", "event": "\(event)", "reason": "\(error.message)"])
        } else {
            context.metrics.consentEvidenceFailures.increment()
            context.logger.error(
                "consent event not applied: evidence not stored",
                metadata: ["call": "\(callID ?? "?")", "event": "\(event)", "error": "\(error.message)"])
        }
    }

    /// The close to apply if a limit ran out (silence, call length), or nil.
    func tick() -> MediaClose? {
        ended ? nil : context.expired(startedAt: startedAt, lastMediaAt: lastMediaAt, callID: callID)
    }

    /// Ends the stream exactly once: releases its admission, flushes each assembler's partial frame,
    /// seals the recordings and closes the call.
    func end(_ reason: MediaClose, flushing assemblers: [(FrameAssembler?, RecordingTrack)]) {
        guard !ended else { return }
        ended = true
        if let admittedTenant { context.admission.release(tenantID: admittedTenant) }
        guard let recorder, let callID else { return }
        if let live { context.liveCalls.remove(live, id: callID) }
        live = nil  // the handle holds this lifecycle: break the cycle
        context.metrics.activeCalls.decrement()
        for case (let assembler?, let track) in assemblers {
            guard let frame = assembler.flush() else { continue }
            do {
                try record(frame, track: track, by: recorder)
            } catch {
                context.logger.error(
                    "last partial frame not recorded", metadata: ["call": "\(callID)", "error": "\(error.message)"])
            }
        }
        do {
            try recorder.finish(atMs: timelineMs)
        } catch {
            context.logger.error(
                "call not finished cleanly; recovery will close it", metadata: ["call": "\(callID)", "error": "\(error.message)"])
        }
        context.logger.info(
            "call ended",
            metadata: [
                "call": "\(callID)", "reason": "\(reason.code)", "framesWritten": "\(recorder.framesWritten)",
                "framesDropped": "\(recorder.framesDropped)",
            ])
    }
}
