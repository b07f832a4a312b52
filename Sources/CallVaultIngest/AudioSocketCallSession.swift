import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import NIOCore

/// One Asterisk AudioSocket connection: the UUID names a call registered before with
/// `POST /v1/calls` (which carried the tenant's token); then signed linear audio (8 kHz, or 16/48 kHz),
/// DTMF keys, and a hangup. The audio is the caller's track.
final class AudioSocketCallSession: AudioSocketSession, ConsentEventTarget {
    private let context: IngestContext
    private let eventLoop: any EventLoop
    private var recorder: CallRecorder?
    private var assembler: FrameAssembler?
    private var callID: String?
    private var live: LiveCallHandle?
    private var lastMs: Int64 = 0
    private var ended = false
    private var admittedTenant: String?
    private let startedAt = NIODeadline.now()
    private var lastMediaAt = NIODeadline.now()

    init(context: IngestContext, eventLoop: any EventLoop) {
        self.context = context
        self.eventLoop = eventLoop
    }

    func receive(_ message: AudioSocketMessage) -> MediaClose? {
        switch message {
        case .uuid(let uuid):
            return start(uuid.uuidString)
        case .audio(let hertz, let payload):
            guard let recorder else { return .policy("audio before the UUID") }
            lastMediaAt = .now()
            do {
                let rate = try SampleRate(ingestHertz: hertz)
                if assembler?.sampleRate != rate {
                    assembler = FrameAssembler(encoding: .l16LittleEndian, sampleRate: rate, startMs: lastMs)
                }
                var chunk = AudioChunk(payload)
                while let frame = try assembler!.nextFrame(from: &chunk) {
                    try context.record(frame, track: .caller, by: recorder, receivedAt: lastMediaAt)
                    lastMs = frame.timestampMs + 20
                }
            } catch let error as IngestError {
                context.metrics.protocolError("audiosocket.\(error.code)")
                return .invalid(error.message)
            } catch {
                context.logger.error("recording failed", metadata: ["call": "\(callID ?? "?")", "error": "\(error)"])
                return .serverError("recording failed")
            }
            return nil
        case .dtmf(let digit):
            do { try recorder?.apply(digit: digit, atMs: lastMs) } catch {
                context.logger.notice("dtmf event refused", metadata: ["call": "\(callID ?? "?")", "reason": "\(error.message)"])
            }
            return nil
        case .hangup, .error:
            return nil  // the handler ends the session
        }
    }

    private func start(_ uuid: String) -> MediaClose? {
        let calls: [CallRecord]
        do { calls = try context.catalog.calls(externalID: uuid) } catch {
            return .serverError("the catalog is unavailable")
        }
        guard calls.count == 1, let call = calls.first else {
            context.metrics.protocolError("audiosocket.unregisteredCall")
            return .policy(
                calls.isEmpty
                    ? "call \(uuid) was not registered (POST /v1/calls with the tenant's token first)"
                    : "call \(uuid) is registered by more than one tenant")
        }
        guard let tenant = try? context.catalog.tenant(id: call.tenantId) else { return .serverError("tenant missing") }
        if let refused = context.admit(tenant) { return refused }
        admittedTenant = tenant.id
        callID = call.id
        recorder = context.recorder(for: call, tenant: tenant, arrivedAs: .pcm16)
        let handle = LiveCallHandle(self, eventLoop: eventLoop)
        live = handle
        context.liveCalls.insert(handle, id: call.id)
        context.metrics.activeCalls.increment()
        return nil
    }

    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod) {
        do { try recorder?.apply(kind, method: method, atMs: lastMs) } catch {
            context.logger.notice("consent event refused", metadata: ["call": "\(callID ?? "?")", "reason": "\(error.message)"])
        }
    }

    func tick() -> MediaClose? {
        ended ? nil : context.expired(startedAt: startedAt, lastMediaAt: lastMediaAt, callID: callID)
    }

    func end(_ reason: MediaClose) {
        guard !ended else { return }
        ended = true
        if let admittedTenant { context.admission.release(tenantID: admittedTenant) }
        guard let recorder, let callID else { return }
        if let live { context.liveCalls.remove(live, id: callID) }
        live = nil
        context.metrics.activeCalls.decrement()
        if let frame = assembler?.flush() { _ = try? recorder.receive(frame, track: .caller) }
        do { try recorder.finish(atMs: lastMs) } catch {
            context.logger.error("call not finished cleanly; recovery will close it", metadata: ["call": "\(callID)", "error": "\(error.message)"])
        }
    }
}

extension IngestContext {
    /// The AudioSocket session factory `callvault serve --audiosocket` uses.
    public var audioSocketSessions: AudioSocketSessionFactory {
        let context = self
        return { eventLoop in AudioSocketCallSession(context: context, eventLoop: eventLoop) }
    }
}
