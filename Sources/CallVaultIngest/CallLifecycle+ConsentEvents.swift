import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import NIOCore

/// Consent events of a live call: from signalling (DTMF keys) and from the control API, each applied at
/// its place in the stream (after the frames received before it), its evidence stored in the call's queue
/// before it takes effect (or, for one that records nothing, at once), the outcome reported.
extension CallLifecycle {
    /// A DTMF key from the protocol's signalling, applied after the frames received before it. A refusal
    /// or a failed evidence write is logged and counted: these protocols have no way to answer the sender.
    func applyDigit(_ digit: DTMFDigit) {
        guard recorder != nil || started, !finished else { return }
        enqueueEvent(.digit(digit))
    }

    /// A consent event from the control API, applied after the frames received before it; the outcome
    /// goes back to the API's caller once its evidence is stored (or known not to be).
    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod) -> EventLoopFuture<ConsentEventOutcome> {
        guard recorder != nil, !finished, ending == nil else {
            return eventLoop.makeSucceededFuture(.refused("the stream has not started a call yet"))
        }
        let promise = eventLoop.makePromise(of: ConsentEventOutcome.self)
        enqueueEvent(.event(kind, method, promise))
        return promise.futureResult
    }

    fileprivate func enqueueEvent(_ event: HeldEvent) {
        if !waiting && held.isEmpty && events.isEmpty && recorder != nil {
            apply(event)
        } else {
            events.append((held.tail, event))
        }
    }

    /// Decides an event at the current timeline position and stores its evidence off the loop; later
    /// frames wait until it is settled.
    func apply(_ event: HeldEvent) {
        guard let recorder, let callID else {
            if case .event(_, _, let promise) = event { promise.succeed(.refused("the stream has not started a call yet")) }
            return
        }
        let pending: CallRecorder.PendingEvidence
        let name: String
        do {
            switch event {
            case .event(let kind, let method, _):
                name = kind.rawValue
                pending = try recorder.decide(kind, method: method, atMs: timelineMs)
            case .digit(let digit):
                name = "dtmf"
                guard let decided = try recorder.decide(digit: digit, atMs: timelineMs) else { return }
                pending = decided
            }
        } catch {
            report(error, event: eventName(event))
            if case .event(_, _, let promise) = event { promise.succeed(.refused(error.message)) }
            return
        }
        waiting = true
        let store = context.catalog
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let promise: EventLoopPromise<ConsentEventOutcome>? =
            if case .event(_, _, let promise) = event { promise } else { nil }
        queue.enqueue {
            let failure = await Self.store(pending.evidence, callID: callID, in: store)
            bound.eventLoop.execute { bound.value.settled(pending, failure: failure, event: name, promise: promise) }
        }
    }

    fileprivate func eventName(_ event: HeldEvent) -> String {
        switch event {
        case .event(let kind, _, _): kind.rawValue
        case .digit: "dtmf"
        }
    }

    fileprivate func settled(
        _ pending: CallRecorder.PendingEvidence, failure: CatalogError?, event: String,
        promise: EventLoopPromise<ConsentEventOutcome>?
    ) {
        waiting = false
        guard let recorder else { return }
        do {
            try recorder.settleEvent(pending, failure: failure)
            promise?.succeed(.applied(recording: recorder.admits))
        } catch {
            report(error, event: event)
            promise?.succeed(error.code == .consentRefused ? .refused(error.message) : .notStored(error.message))
        }
        pump()
    }

    func failEvents(_ reason: String) {
        for (_, event) in events {
            if case .event(_, _, let promise) = event { promise.succeed(.notStored(reason)) }
        }
        events.removeAll()
    }

    fileprivate func report(_ error: RecorderError, event: String) {
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
}
