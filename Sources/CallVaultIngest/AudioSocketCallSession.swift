import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import NIOCore

/// One Asterisk AudioSocket connection: the UUID names a call registered before with
/// `POST /v1/calls` (which carried the tenant's token); then signed linear audio (8 kHz, or 16/48 kHz),
/// DTMF keys, and a hangup. The audio is the caller's track.
final class AudioSocketCallSession: AudioSocketSession {
    private let call: CallLifecycle
    private var assembler: FrameAssembler?

    init(context: IngestContext, eventLoop: any EventLoop) {
        call = CallLifecycle(context: context, eventLoop: eventLoop)
    }

    private var context: IngestContext { call.context }

    func receive(_ message: AudioSocketMessage) -> MediaClose? {
        switch message {
        case .uuid(let uuid):
            return start(uuid.uuidString)
        case .audio(let hertz, let payload):
            guard let recorder = call.recorder else { return .policy("audio before the UUID") }
            _ = call.noteMedia()
            do {
                let rate = try SampleRate(ingestHertz: hertz)
                if assembler?.sampleRate != rate {
                    assembler = FrameAssembler(encoding: .l16LittleEndian, sampleRate: rate, startMs: call.timelineMs)
                }
                var chunk = AudioChunk(payload)
                while let frame = try assembler!.nextFrame(from: &chunk) {
                    try call.record(frame, track: .caller, by: recorder)
                }
            } catch let error as IngestError {
                context.metrics.protocolError("audiosocket.\(error.code)")
                return .invalid(error.message)
            } catch {
                return call.recordingFailed(error, otherwise: "recording failed")
            }
            return nil
        case .dtmf(let digit):
            call.applyDigit(digit)
            return nil
        case .hangup, .error:
            return nil  // the handler ends the session
        }
    }

    private func start(_ uuid: String) -> MediaClose? {
        guard call.recorder == nil else { return .policy("a second UUID on one connection") }
        let calls: [CallRecord]
        do { calls = try context.catalog.calls(externalID: uuid) } catch {
            return .serverError("the catalog is unavailable: \(error.message)")
        }
        guard calls.count == 1, let found = calls.first else {
            context.metrics.protocolError("audiosocket.unregisteredCall")
            return .policy(
                calls.isEmpty
                    ? "call \(uuid) was not registered (POST /v1/calls with the tenant's token first)"
                    : "call \(uuid) is registered by more than one tenant")
        }
        let tenant: Tenant
        do { tenant = try context.catalog.tenant(id: found.tenantId) } catch where error.code == .notFound {
            return .policy("the tenant of call \(uuid) no longer exists")
        } catch {
            return .serverError("the catalog is unavailable: \(error.message)")
        }
        return call.begin(tenant: tenant, arrivedAs: .pcm16) { found }
    }

    func tick() -> MediaClose? { call.tick() }

    func end(_ reason: MediaClose) {
        call.end(reason, flushing: [(assembler, .caller)])
    }
}

extension IngestContext {
    /// The AudioSocket session factory `callvault serve --audiosocket` uses.
    public var audioSocketSessions: AudioSocketSessionFactory {
        let context = self
        return { eventLoop in AudioSocketCallSession(context: context, eventLoop: eventLoop) }
    }
}
