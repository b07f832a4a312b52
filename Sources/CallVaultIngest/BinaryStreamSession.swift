import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import NIOCore

/// One binary media WebSocket (`/v1/stream`, the style of jambonz `listen` and FreeSWITCH
/// mod_audio_fork): a JSON text header `{"callId","tenantToken","encoding","sampleRate","track","from"?}`,
/// then binary frames of L16 (big-endian) or μ-law, any size. One connection carries one track;
/// a call's two tracks come on two connections, each with its own gate, and consent events from
/// the control API reach both.
final class BinaryStreamSession: MediaSession {
    private let call: CallLifecycle
    private let upgradeTenant: Tenant?
    private let security: ConnectionSecurity
    private var assembler: FrameAssembler?
    private var track: RecordingTrack = .caller

    init(context: IngestContext, tenant: Tenant?, security: ConnectionSecurity, eventLoop: any EventLoop) {
        call = CallLifecycle(context: context, eventLoop: eventLoop, mediaProtocol: .stream)
        self.upgradeTenant = tenant
        self.security = security
    }

    private var context: IngestContext { call.context }

    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard !call.started else { return .policy("only the first message is text; audio follows as binary frames") }
        let header: StreamStartMessage
        do {
            header = try StreamStartMessage.parse(bytes)
        } catch {
            context.metrics.protocolError("stream.\(error.code)")
            return .invalid(error.message)
        }
        track = header.track == .caller ? .caller : .bot
        assembler = FrameAssembler(encoding: header.audioEncoding, sampleRate: header.sampleRate)
        let context = self.context
        let upgradeTenant = self.upgradeTenant
        let security = self.security
        call.begin(
            arrivedAs: header.encoding == .pcmu ? .g711u : .pcm16,
            findTenant: { () async throws(MediaClose) -> Tenant in
                guard let tenant = try await context.tenant(token: header.tenantToken) else {
                    throw .policy("unknown tenantToken")
                }
                if let upgradeTenant, upgradeTenant.id != tenant.id {
                    throw .policy("the tenantToken names another tenant than the upgrade's token")
                }
                try context.checkClientCertificate(tenant, over: security)
                return tenant
            },
            findCall: { tenant async throws(MediaClose) -> CallRecord in
                try await context.call(tenant: tenant, externalID: header.callId, from: header.from)
            })
        return nil
    }

    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        guard call.started, let assembler else { return .policy("audio before the JSON header") }
        _ = call.noteMedia()
        var chunk = AudioChunk(bytes)
        do throws(IngestError) {
            while let frame = try assembler.nextFrame(from: &chunk) {
                if let close = call.take(frame, track: track) { return close }
            }
        } catch {
            context.metrics.protocolError("stream.\(error.code)")
            return .invalid(error.message)
        }
        return nil
    }

    func tick() -> MediaClose? { call.tick() }

    func attach(_ control: MediaStreamControl) { call.control = control }

    var stored: EventLoopFuture<Void>? { call.stored }

    func end(_ reason: MediaClose) {
        call.end(reason, flushing: [(assembler, track)])
    }
}
