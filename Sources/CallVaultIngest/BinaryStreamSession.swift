import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import NIOCore

/// One binary media WebSocket (`/v1/stream`, the style of jambonz `listen` and FreeSWITCH
/// mod_audio_fork): a JSON text header `{"callId","tenantToken","encoding","sampleRate","track","from"?}`,
/// then binary frames of L16 (big-endian) or μ-law, any size. One connection carries one track;
/// a call's two tracks come on two connections, each with its own gate, and consent events from
/// the control API reach both.
final class BinaryStreamSession: MediaSession, ConsentEventTarget {
    private let context: IngestContext
    private let eventLoop: any EventLoop
    private let upgradeTenant: Tenant?
    private var recorder: CallRecorder?
    private var assembler: FrameAssembler?
    private var track: RecordingTrack = .caller
    private var callID: String?
    private var lastMs: Int64 = 0
    private var ended = false
    private var live: LiveCallHandle?
    private var admittedTenant: String?
    private let startedAt = NIODeadline.now()
    private var lastMediaAt = NIODeadline.now()

    init(context: IngestContext, tenant: Tenant?, eventLoop: any EventLoop) {
        self.context = context
        self.upgradeTenant = tenant
        self.eventLoop = eventLoop
    }

    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard recorder == nil else { return .policy("only the first message is text; audio follows as binary frames") }
        let header: StreamStartMessage
        do {
            header = try StreamStartMessage.parse(bytes)
        } catch {
            context.metrics.protocolError("stream.\(error.code)")
            return .invalid(error.message)
        }
        guard let tenant = context.tenant(token: header.tenantToken) else {
            return .policy("unknown tenantToken")
        }
        if let upgradeTenant, upgradeTenant.id != tenant.id {
            return .policy("the tenantToken names another tenant than the upgrade's token")
        }
        if let refused = context.admit(tenant) { return refused }
        admittedTenant = tenant.id
        do {
            let call = try context.call(tenant: tenant, externalID: header.callId, from: header.from)
            callID = call.id
            track = header.track == .caller ? .caller : .bot
            assembler = FrameAssembler(encoding: header.audioEncoding, sampleRate: header.sampleRate)
            recorder = context.recorder(
                for: call, tenant: tenant, arrivedAs: header.encoding == .pcmu ? .g711u : .pcm16)
            let handle = LiveCallHandle(self, eventLoop: eventLoop)
            live = handle
            context.liveCalls.insert(handle, id: call.id)
            context.metrics.activeCalls.increment()
        } catch let close {
            return close
        }
        return nil
    }

    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard let recorder, let assembler else { return .policy("audio before the JSON header") }
        lastMediaAt = .now()
        var chunk = AudioChunk(bytes)
        do {
            while let frame = try assembler.nextFrame(from: &chunk) {
                try context.record(frame, track: track, by: recorder, receivedAt: lastMediaAt)
                lastMs = frame.timestampMs
            }
        } catch let error as IngestError {
            context.metrics.protocolError("stream.\(error.code)")
            return .invalid(error.message)
        } catch {
            context.logger.error("recording failed", metadata: ["call": "\(callID ?? "?")", "error": "\(error)"])
            return .serverError("recording failed; the call's audio so far is kept")
        }
        return nil
    }

    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod) {
        do {
            try recorder?.apply(kind, method: method, atMs: lastMs + 20)
        } catch {
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
        live = nil  // the handle holds the session: break the cycle
        context.metrics.activeCalls.decrement()
        if let frame = assembler?.flush() { _ = try? recorder.receive(frame, track: track) }
        do {
            try recorder.finish(atMs: lastMs + 20)
        } catch {
            context.logger.error("stream not finished cleanly; recovery will close it", metadata: ["call": "\(callID)", "error": "\(error.message)"])
        }
    }
}
