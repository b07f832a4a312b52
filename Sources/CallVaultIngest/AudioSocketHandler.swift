import Logging
import NIOCore

/// Feeds one AudioSocket TCP connection through an ``AudioSocketParser`` (allocation-free, any split)
/// to its session; a protocol error or a refusal closes this connection only, with an AudioSocket
/// error message, the reason logged and counted. Reading pauses while the session asks (``ReadGate``).
final class AudioSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let parser: AudioSocketParser
    private let session: any AudioSocketSession
    private let metrics: IngestMetrics
    private let logger: Logger
    private var ended = false
    private var closing = false
    private var reads = ReadGate()
    private let tickInterval: TimeAmount?
    private var ticker: RepeatedTask?

    init(
        session: any AudioSocketSession, maxPayloadLength: Int, tickInterval: TimeAmount? = nil, metrics: IngestMetrics,
        logger: Logger
    ) {
        self.session = session
        self.tickInterval = tickInterval
        self.parser = AudioSocketParser(maxPayloadLength: maxPayloadLength)
        self.metrics = metrics
        self.logger = logger
    }

    /// Checks the session's clocks (idle timeout, call length) every `tickInterval` on the channel's loop.
    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        session.attach(
            MediaStreamControl(
                close: { reason in
                    let (handler, context) = bound.value
                    handler.hangUp(context, reason)
                },
                pauseReading: { pause in
                    let (handler, context) = bound.value
                    if pause { handler.reads.pause() } else { handler.reads.resume(context) }
                }))
        guard let tickInterval else { return }
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            let (handler, context) = bound.value
            if let close = handler.session.tick() { handler.hangUp(context, close) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil  // the task holds this handler: break the cycle
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        let buffer = unwrapInboundIn(data)
        let outcome: MediaClose? = buffer.withUnsafeReadableBytes { bytes in
            var input = bytes
            do throws(IngestError) {
                while let message = try parser.next(from: &input) {
                    if let close = session.receive(message) { return close }
                    switch message {
                    case .hangup: return .normal
                    case .error(let code): return MediaClose(code: 1000, reason: "peer reported error \(code.rawValue)")
                    default: continue
                    }
                }
                return nil
            } catch {
                metrics.protocolError("audiosocket.\(error.code)")
                return .invalid(error.message)
            }
        }
        if let outcome { hangUp(context, outcome) }
    }

    /// Ends the session, tells the peer how, and closes the connection, once.
    ///
    /// A normal end (the peer hung up, the server shuts down, a call finished by its idle timeout or
    /// length: all of them seal the recording like a hang-up) sends AudioSocket's hangup. A refusal or
    /// an error (malformed framing, an unregistered UUID, a stream limit, a server failure) sends an
    /// error message with ``AudioSocketErrorCode/applicationError`` and logs the reason: AudioSocket
    /// has no room for text.
    private func hangUp(_ context: ChannelHandlerContext, _ reason: MediaClose) {
        end(reason)
        guard !closing else { return }
        closing = true
        var frame = context.channel.allocator.buffer(capacity: 4)
        if Self.isNormalEnd(reason) {
            frame.writeBytes([AudioSocketMessage.Kind.hangup.rawValue, 0x00, 0x00])
        } else {
            let code = AudioSocketErrorCode.applicationError
            logger.notice(
                "audiosocket stream closed", metadata: ["reason": "\(reason.reason)", "code": "\(code.rawValue)"])
            frame.writeBytes([AudioSocketMessage.Kind.error.rawValue, 0x00, 0x01, code.rawValue])
        }
        let channel = context.channel
        let write = { (context: ChannelHandlerContext) in
            context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        }
        // The hangup or error goes out once the call is stored (its recording complete in the catalog).
        guard let stored = session.stored else { return write(context) }
        let bound = NIOLoopBound((context, write), eventLoop: context.eventLoop)
        stored.whenComplete { _ in
            let (context, write) = bound.value
            write(context)
        }
    }

    /// Whether `reason` ends the call as a hang-up would (1000, 1001) rather than refusing it.
    static func isNormalEnd(_ reason: MediaClose) -> Bool {
        reason.code == MediaClose.normal.code || reason.code == MediaClose.goingAway.code
    }

    private func end(_ reason: MediaClose) {
        guard !ended else { return }
        ended = true
        session.end(reason)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(MediaClose(code: 1006, reason: "connection lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(.serverError("socket error"))
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdown { hangUp(context, .goingAway) } else { context.fireUserInboundEventTriggered(event) }
    }
}
