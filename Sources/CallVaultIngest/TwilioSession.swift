import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import NIOCore

/// One Twilio Media Streams WebSocket: `connected`, `start`, `media` (both tracks interleaved),
/// `dtmf`, `mark`, `stop`.
///
/// Media messages are parsed and base64-decoded straight into a buffer owned by the session, turned
/// into 20 ms frames placed by `media.timestamp` (never by arrival order, so the inbound and
/// outbound tracks stay aligned), and handed to the call's recorder: no allocation per message.
/// `start` registers (or finds) the call and may block briefly on the catalog.
final class TwilioSession: MediaSession, ConsentEventTarget {
    private let context: IngestContext
    private let eventLoop: any EventLoop
    private var tenant: Tenant?
    private var recorder: CallRecorder?
    private var callID: String?
    private let payload: UnsafeMutableRawBufferPointer
    private var caller = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
    private var bot = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
    private var lastMs: Int64 = 0
    private var ended = false
    private var live: LiveCallHandle?
    private var admittedTenant: String?
    private let startedAt = NIODeadline.now()
    private var lastMediaAt = NIODeadline.now()

    init(context: IngestContext, tenant: Tenant?, eventLoop: any EventLoop) {
        self.context = context
        self.tenant = tenant
        self.eventLoop = eventLoop
        payload = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit { payload.deallocate() }

    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        let receivedAt = NIODeadline.now()
        let message: TwilioMessage
        do {
            message = try TwilioMessage.parse(bytes, payloadInto: payload)
        } catch {
            context.metrics.protocolError("twilio.\(error.code)")
            return .invalid(error.message)
        }
        switch message {
        case .media(let media):
            return receive(media, receivedAt: receivedAt)
        case .other(.start):
            return start(bytes)
        case .other(.dtmf):
            guard case .dtmf(let digit)? = try? TwilioControlMessage.parse(bytes) else {
                context.metrics.protocolError("twilio.dtmf")
                return .invalid("a dtmf message without a valid dtmf.digit")
            }
            do {
                try recorder?.apply(digit: digit, atMs: lastMs + 20)
            } catch {
                context.logger.notice("dtmf event refused", metadata: ["call": "\(callID ?? "?")", "reason": "\(error.message)"])
            }
            return nil
        case .other(.stop):
            return .normal
        case .other:
            return nil  // connected, mark
        }
    }

    private func receive(_ media: TwilioMediaMessage, receivedAt: NIODeadline) -> MediaClose? {
        guard let recorder else { return .policy("media before start") }
        lastMediaAt = receivedAt
        let track: RecordingTrack = media.track == .inbound ? .caller : .bot
        let assembler = track == .caller ? caller : bot
        var chunk = AudioChunk(UnsafeRawBufferPointer(rebasing: payload[0..<media.payloadCount]), timestampMs: media.timestampMs)
        do {
            while let frame = try assembler.nextFrame(from: &chunk) {
                try context.record(frame, track: track, by: recorder, receivedAt: lastMediaAt)
                lastMs = max(lastMs, frame.timestampMs)
            }
        } catch let error as IngestError {
            context.metrics.protocolError("twilio.\(error.code)")
            return .invalid(error.message)
        } catch {
            context.logger.error("recording failed", metadata: ["call": "\(callID ?? "?")", "error": "\(error)"])
            return .serverError("recording failed; the call's audio so far is kept")
        }
        return nil
    }

    private func start(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard recorder == nil else { return .policy("a second start on one stream") }
        let start: TwilioStartMessage
        do {
            start = try TwilioStartMessage.parse(bytes)
        } catch {
            context.metrics.protocolError("twilio.start")
            return .invalid(error.message)
        }
        guard start.sampleRate == 8000, start.channels == 1 else {
            return .invalid("only audio/x-mulaw at 8000 Hz mono is accepted (got \(start.sampleRate) Hz, \(start.channels) channel(s))")
        }
        if tenant == nil { tenant = context.tenant(token: start.token) }
        guard let tenant else {
            return .policy("missing or unknown tenant token (customParameters.token, Authorization or ?token=)")
        }
        if let refused = context.admit(tenant) { return refused }
        admittedTenant = tenant.id
        do {
            let call = try context.call(tenant: tenant, externalID: start.callSid, from: start.customParameters["from"])
            callID = call.id
            recorder = context.recorder(for: call, tenant: tenant, arrivedAs: .g711u)
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
        context.metrics.protocolError("twilio.binary")
        return .invalid("Twilio Media Streams send text frames only")
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
        for (assembler, track) in [(caller, RecordingTrack.caller), (bot, .bot)] {
            if let frame = assembler.flush() { _ = try? recorder.receive(frame, track: track) }
        }
        do {
            try recorder.finish(atMs: lastMs + 20)
        } catch {
            context.logger.error("call not finished cleanly; recovery will close it", metadata: ["call": "\(callID)", "error": "\(error.message)"])
        }
        context.logger.info(
            "call ended",
            metadata: ["call": "\(callID)", "reason": "\(reason.code)", "framesWritten": "\(recorder.framesWritten)",
                "framesDropped": "\(recorder.framesDropped)"])
    }
}
