import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import NIOCore

/// One Twilio Media Streams WebSocket: `connected`, `start`, `media` (both tracks interleaved),
/// `dtmf`, `mark`, `stop`.
///
/// Media messages are parsed and base64-decoded straight into a buffer owned by the session, turned
/// into 20 ms frames placed by `media.timestamp` (never by arrival order, so the inbound and
/// outbound tracks stay aligned), and handed to the call's recorder: no allocation per message.
/// `start` sets the call up off the event loop (tenant, registration, stored events); media that
/// follows before it is set up is held by the call's lifecycle and recorded once it is.
final class TwilioSession: MediaSession {
    private let call: CallLifecycle
    private var tenant: Tenant?
    private let security: ConnectionSecurity
    private let payload: UnsafeMutableRawBufferPointer
    private let caller = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
    private let bot = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)

    init(context: IngestContext, tenant: Tenant?, security: ConnectionSecurity, eventLoop: any EventLoop) {
        call = CallLifecycle(context: context, eventLoop: eventLoop, mediaProtocol: .twilio)
        self.tenant = tenant
        self.security = security
        payload = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit { payload.deallocate() }

    private var context: IngestContext { call.context }

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
            call.applyDigit(digit)
            return nil
        case .other(.mark):
            // A mark the bot placed in its audio, echoed once played: sensitive-start/-end open and close
            // a sensitive window there. A mark that does not parse is the bot's own business.
            if case .mark(let name)? = try? TwilioControlMessage.parse(bytes) { call.applyMark(name) }
            return nil
        case .other(.stop):
            return .normal
        case .other:
            return nil  // connected
        }
    }

    private func receive(_ media: TwilioMediaMessage, receivedAt: NIODeadline) -> MediaClose? {
        guard call.started else { return .policy("media before start") }
        _ = call.noteMedia()
        let track: RecordingTrack = media.track == .inbound ? .caller : .bot
        let assembler = track == .caller ? caller : bot
        var chunk = AudioChunk(UnsafeRawBufferPointer(rebasing: payload[0..<media.payloadCount]), timestampMs: media.timestampMs)
        do throws(IngestError) {
            while let frame = try assembler.nextFrame(from: &chunk) {
                if let close = call.take(frame, track: track) { return close }
            }
        } catch {
            context.metrics.protocolError("twilio.\(error.code)")
            return .invalid(error.message)
        }
        return nil
    }

    private func start(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard !call.started else { return .policy("a second start on one stream") }
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
        let context = self.context
        let known = tenant
        let security = self.security
        call.begin(
            arrivedAs: .g711u,
            findTenant: { () async throws(MediaClose) -> Tenant in
                var found = known
                if found == nil { found = try await context.tenant(token: start.token) }
                guard let found else {
                    throw .policy("missing or unknown tenant token (customParameters.token, Authorization or ?token=)")
                }
                try context.checkClientCertificate(found, over: security)
                return found
            },
            findCall: { tenant async throws(MediaClose) -> CallRecord in
                try await context.call(tenant: tenant, externalID: start.callSid, from: start.customParameters["from"])
            })
        return nil
    }

    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        context.metrics.protocolError("twilio.binary")
        return .invalid("Twilio Media Streams send text frames only")
    }

    func tick() -> MediaClose? { call.tick() }

    func attach(_ control: MediaStreamControl) { call.control = control }

    var stored: EventLoopFuture<Void>? { call.stored }

    func end(_ reason: MediaClose) {
        call.end(reason, flushing: [(caller, .caller), (bot, .bot)])
    }
}
