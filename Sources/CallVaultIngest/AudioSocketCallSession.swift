import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import NIOCore
import Synchronization

/// One Asterisk AudioSocket connection: the UUID names a call registered before with
/// `POST /v1/calls` (which carried the tenant's token); then signed linear audio (8 kHz, or 16/48 kHz),
/// DTMF keys, and a hangup. The audio is the caller's track.
final class AudioSocketCallSession: AudioSocketSession {
    private let call: CallLifecycle
    private var assembler: FrameAssembler?

    init(context: IngestContext, eventLoop: any EventLoop) {
        call = CallLifecycle(context: context, eventLoop: eventLoop, mediaProtocol: .audiosocket)
    }

    private var context: IngestContext { call.context }

    func receive(_ message: AudioSocketMessage) -> MediaClose? {
        switch message {
        case .uuid(let uuid):
            return start(uuid.uuidString)
        case .audio(let hertz, let payload):
            guard call.started else { return .policy("audio before the UUID") }
            _ = call.noteMedia()
            do throws(IngestError) {
                let rate = try SampleRate(ingestHertz: hertz)
                if assembler?.sampleRate != rate {
                    assembler = FrameAssembler(
                        encoding: .l16LittleEndian, sampleRate: rate, startMs: call.receivedTimelineMs)
                }
                var chunk = AudioChunk(payload)
                while let frame = try assembler!.nextFrame(from: &chunk) {
                    if let close = call.take(frame, track: .caller) { return close }
                }
            } catch {
                context.metrics.protocolError("audiosocket.\(error.code)")
                return .invalid(error.message)
            }
            return nil
        case .dtmf(let digit):
            call.applyDigit(digit)
            return nil
        case .hangup, .error:
            return nil  // the handler ends the session
        }
    }

    /// Finds the call the UUID names (registered by `POST /v1/calls`) and its tenant off the event
    /// loop; audio that follows meanwhile is held.
    private func start(_ uuid: String) -> MediaClose? {
        guard !call.started else { return .policy("a second UUID on one connection") }
        let context = self.context
        let found = FoundCall()
        call.begin(
            arrivedAs: .pcm16,
            findTenant: { () async throws(MediaClose) -> Tenant in
                let calls: [CallRecord]
                do throws(CatalogError) { calls = try await context.catalog.calls(externalID: uuid) } catch {
                    context.metrics.callRefused("catalogUnavailable")
                    throw .serverError("the catalog is unavailable: \(error.message)")
                }
                guard calls.count == 1, let call = calls.first else {
                    context.metrics.protocolError("audiosocket.unregisteredCall")
                    throw .policy(
                        calls.isEmpty
                            ? "call \(uuid) was not registered (POST /v1/calls with the tenant's token first)"
                            : "call \(uuid) is registered by more than one tenant")
                }
                found.call.withLock { $0 = call }
                do throws(CatalogError) {
                    return try await context.catalog.tenant(id: call.tenantId)
                } catch where error.code == .notFound {
                    throw .policy("the tenant of call \(uuid) no longer exists")
                } catch {
                    context.metrics.callRefused("catalogUnavailable")
                    throw .serverError("the catalog is unavailable: \(error.message)")
                }
            },
            findCall: { _ async throws(MediaClose) -> CallRecord in
                guard let call = found.call.withLock({ $0 }) else { throw .serverError("the call was not found") }
                return call
            })
        return nil
    }

    func attach(_ control: MediaStreamControl) { call.control = control }

    var stored: EventLoopFuture<Void>? { call.stored }

    func tick() -> MediaClose? { call.tick() }

    func end(_ reason: MediaClose) {
        call.end(reason, flushing: [(assembler, .caller)])
    }
}

/// The call an AudioSocket UUID named, found with its tenant, handed to the next step of the set-up.
private final class FoundCall: Sendable {
    let call = Mutex<CallRecord?>(nil)
}

extension IngestContext {
    /// The AudioSocket session factory `callvault serve --audiosocket` uses.
    public var audioSocketSessions: AudioSocketSessionFactory {
        let context = self
        return { eventLoop in AudioSocketCallSession(context: context, eventLoop: eventLoop) }
    }
}
