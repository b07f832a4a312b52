import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultSIP
import Foundation
import NIOCore
import NIOPosix

/// One SIP recording session (SIPREC, or a plain SIP call to a tenant): the call's ``CallLifecycle`` —
/// the same consent gate, segmenter and sealer as every other protocol — fed by one RTP socket per
/// offered audio stream, each stream mapped to the caller or the bot track by ``TrackMapping``.
///
/// Confined to `eventLoop` (its RTP sockets live there too); the user agent reaches it through the
/// methods below, which hop to that loop.
final class SIPRECCall: @unchecked Sendable {
    let eventLoop: any EventLoop
    let sipCallID: String
    private let context: IngestContext
    private let ports: RTPPortPool
    private let configuration: SIPServerConfiguration
    private let lifecycle: CallLifecycle
    private var streams: [SIPRECMediaStream?] = []
    private var allocated: [Int] = []
    private var tick: RepeatedTask?
    private var started: EventLoopPromise<[SDPAnswer.Stream]>?
    private var paused = false
    /// When the session was set up (monotonic ns): the call timeline's zero for every stream.
    private let sessionStart = NIODeadline.now().uptimeNanoseconds
    private var ended = false
    /// Set by the user agent: the recording must end on CallVault's side (it failed, a limit ran out):
    /// send a BYE. Called on this call's loop.
    var onRecorderClose: (@Sendable (MediaClose) -> Void)?

    init(context: IngestContext, ports: RTPPortPool, configuration: SIPServerConfiguration, sipCallID: String, eventLoop: any EventLoop) {
        self.context = context
        self.ports = ports
        self.configuration = configuration
        self.sipCallID = sipCallID
        self.eventLoop = eventLoop
        lifecycle = CallLifecycle(context: context, eventLoop: eventLoop, mediaProtocol: .siprec)
    }

    /// Why a session could not start: the close its recording was refused with.
    struct Refused: Error {
        let close: MediaClose
    }

    // MARK: Start

    /// Sets the call up (tenant known, call registered by its SIP Call-ID, keys and stored consent
    /// checked), then opens an RTP socket per accepted stream. Succeeds with the answer's streams, or
    /// fails with ``Refused``.
    /// - Parameters:
    ///   - siprec: whether the INVITE is SIPREC (the customer's number then comes from the metadata).
    ///   - from: a plain call's From URI (its customer).
    func start(tenant: Tenant, offer: SDPSession, metadata: RecordingMetadata?, siprec: Bool, from: String?)
        -> EventLoopFuture<[SDPAnswer.Stream]>
    {
        eventLoop.flatSubmit { self.startOnLoop(tenant: tenant, offer: offer, metadata: metadata, siprec: siprec, from: from) }
    }

    private func startOnLoop(tenant: Tenant, offer: SDPSession, metadata: RecordingMetadata?, siprec: Bool, from: String?)
        -> EventLoopFuture<[SDPAnswer.Stream]>
    {
        let promise = eventLoop.makePromise(of: [SDPAnswer.Stream].self)
        started = promise
        let rule: CustomerRule =
            tenant.policy.sip.tenantAddresses.isEmpty ? .firstStream : .notTenantAddress(tenant.policy.sip.tenantAddresses)
        let mapping = TrackMapping.map(sdp: offer, metadata: metadata, rule: rule)
        let callerNumber = Self.phoneNumber(
            siprec ? mapping.tracks.first { $0.role == .caller }?.participantAddress : from)
        if !mapping.contradictions.isEmpty {
            context.metrics.protocolError("sip.trackMappingContradiction")
            context.logger.notice(
                "SIPREC metadata contradicts itself: the streams it touches are not recorded",
                metadata: ["sipCall": "\(sipCallID)", "contradictions": "\(mapping.contradictions.count)"])
        }
        let planned = SIPRECMediaStream.plan(offer: offer, mapping: mapping)
        for case .failure(let refused) in planned { context.metrics.protocolError("sip.streamRefused.\(refused.reason.rawValue)") }
        let plans = planned.map { try? $0.get() }
        // Stored as it arrives when the tenant keeps the native codec: G.711 as G.711, anything else as PCM.
        let native: StorageCodec =
            switch plans.compactMap({ $0?.codecs.first }).first?.encoding.uppercased() {
            case "PCMU": .g711u
            case "PCMA": .g711a
            default: .pcm16
            }
        let context = self.context
        let sipCallID = self.sipCallID
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        lifecycle.control = MediaStreamControl(
            close: { close in bound.value.recorderClosed(close) }, pauseReading: { _ in })
        lifecycle.onSetUp = { bound.value.openStreams(plans, offer: offer) }
        lifecycle.begin(
            arrivedAs: native,
            findTenant: { () async throws(MediaClose) -> Tenant in tenant },
            findCall: { tenant async throws(MediaClose) -> CallRecord in
                try await context.call(tenant: tenant, externalID: sipCallID, from: callerNumber)
            })
        return promise.futureResult
    }

    /// The call is set up: bind a socket per planned stream on ports from the pool.
    private func openStreams(_ plans: [SIPRECMediaStream.Plan?], offer: SDPSession) {
        guard let promise = started else { return }
        let wanted = plans.compactMap { $0 }.count
        guard wanted > 0 else {
            context.metrics.callRefused("sip.noUsableStream")
            return refuseStart(MediaClose(code: 1003, reason: "no offered stream can be recorded (codecs, profile, SRTP keys or speakers)"))
        }
        guard let ports = ports.allocate(wanted) else {
            context.metrics.callRefused("sip.rtpPortsExhausted")
            return refuseStart(MediaClose(code: 1013, reason: "no free RTP ports"))
        }
        allocated = ports
        var next = ports.makeIterator()
        let host = configuration.rtpBindAddress ?? configuration.mediaAddress
        var binds: [EventLoopFuture<Void>] = []
        streams = plans.map { plan in
            guard let plan, let port = next.next() else { return nil }
            do {
                let stream = try SIPRECMediaStream(
                    plan: plan, port: port, lifecycle: lifecycle, metrics: context.metrics, sessionStart: sessionStart)
                stream.onFailure = { [weak self] close in self?.recorderClosed(close) }
                binds.append(stream.bind(host: host, on: eventLoop))
                return stream
            } catch {
                context.metrics.protocolError("sip.streamRefused.decoder")
                context.logger.error("an RTP stream's decoder could not start", metadata: ["sipCall": "\(sipCallID)", "error": "\(error)"])
                return nil
            }
        }
        applyDirections(offer)
        EventLoopFuture.andAllSucceed(binds, on: eventLoop).whenComplete { result in
            switch result {
            case .success:
                self.started = nil
                self.scheduleTicks()
                promise.succeed(self.answerStreams())
            case .failure(let error):
                self.context.logger.error("RTP socket not bound", metadata: ["sipCall": "\(self.sipCallID)", "error": "\(error)"])
                self.refuseStart(.serverError("an RTP port could not be bound"))
            }
        }
    }

    private func refuseStart(_ close: MediaClose) {
        guard let promise = started else { return }
        started = nil
        promise.fail(Refused(close: close))
        end(close)
    }

    private func answerStreams() -> [SDPAnswer.Stream] {
        streams.map {
            $0.map { SDPAnswer.Stream(port: $0.port, codecs: $0.plan.codecs, fmtp: $0.plan.fmtp, crypto: $0.plan.srtp?.answer) } ?? .refused
        }
    }

    /// The customer's number for the catalog (kept only as a keyed hash and a sealed copy): the user
    /// part of the customer's AOR (the SIPREC participant mapped to the caller track, or a plain call's
    /// From) when it looks like a phone number; otherwise none.
    static func phoneNumber(_ aor: String?) -> String? {
        guard let aor else { return nil }
        let user = SIPNameAddress.addressOfRecord(aor).split(separator: "@").first.map(String.init) ?? ""
        let digits = user.filter(\.isNumber)
        guard digits.count >= 3, digits.count <= 20, user.allSatisfy({ $0.isNumber || $0 == "+" }) else { return nil }
        return user
    }

    // MARK: Updates

    /// A re-INVITE or UPDATE with a new offer: each stream's direction (all `inactive` pauses the
    /// recording: a paused span on the timeline; any active again resumes it). New streams are refused.
    func update(offer: SDPSession) -> EventLoopFuture<[SDPAnswer.Stream]> {
        eventLoop.submit {
            self.applyDirections(offer)
            return self.answerStreams()
        }
    }

    private func applyDirections(_ offer: SDPSession) {
        var anyActive = false
        for (index, stream) in streams.enumerated() {
            guard let stream else { continue }
            let active = index < offer.media.count && offer.media[index].port != 0
                && [.sendonly, .sendrecv].contains(offer.direction(ofMedia: index))
            stream.active = active
            anyActive = anyActive || active
        }
        guard anyActive == paused else { return }
        paused = !anyActive
        _ = lifecycle.applyEvent(paused ? .pause : .resume, method: .pipeline)
    }

    // MARK: End

    /// The recording side closes the call (recording failed, a limit ran out, or it was refused after
    /// the stream began).
    private func recorderClosed(_ close: MediaClose) {
        if started != nil { return refuseStart(close) }
        guard !ended else { return }
        onRecorderClose?(close)
        end(close)
    }

    private func scheduleTicks() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        tick = eventLoop.scheduleRepeatedTask(initialDelay: configuration.tickInterval, delay: configuration.tickInterval) { _ in
            let call = bound.value
            // A paused session sends no media on purpose: silence then is not the caller gone.
            if call.paused { _ = call.lifecycle.noteMedia() }
            if let close = call.lifecycle.tick() { call.recorderClosed(close) }
        }
    }

    /// Ends the session once (BYE, CANCEL, a timer): sockets closed, ports back, the recording sealed.
    /// The future completes once the call's catalog work is done.
    @discardableResult
    func end(_ reason: MediaClose) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard !self.ended else { return self.lifecycle.stored ?? self.eventLoop.makeSucceededVoidFuture() }
            self.ended = true
            self.tick?.cancel()
            self.tick = nil
            for stream in self.streams {
                stream?.flush()
                stream?.close()
            }
            self.ports.release(self.allocated)
            self.allocated = []
            self.lifecycle.end(reason, flushing: [])
            self.lifecycle.onSetUp = nil
            self.onRecorderClose = nil
            return self.lifecycle.stored ?? self.eventLoop.makeSucceededVoidFuture()
        }
    }
}
