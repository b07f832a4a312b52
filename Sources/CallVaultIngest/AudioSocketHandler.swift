import NIOCore

/// Feeds one AudioSocket TCP connection through an ``AudioSocketParser`` (allocation-free, any split)
/// to its session; a protocol error hangs up this connection only, with the reason logged.
final class AudioSocketHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let parser: AudioSocketParser
    private let session: any AudioSocketSession
    private let onError: @Sendable (IngestError) -> Void
    private var ended = false
    private let tickInterval: TimeAmount?
    private var ticker: RepeatedTask?

    init(
        session: any AudioSocketSession, maxPayloadLength: Int, tickInterval: TimeAmount? = nil,
        onError: @escaping @Sendable (IngestError) -> Void
    ) {
        self.session = session
        self.tickInterval = tickInterval
        self.parser = AudioSocketParser(maxPayloadLength: maxPayloadLength)
        self.onError = onError
    }

    /// Checks the session's clocks (idle timeout, call length) every `tickInterval` on the channel's loop.
    func handlerAdded(context: ChannelHandlerContext) {
        guard let tickInterval else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            let (handler, context) = bound.value
            if let close = handler.session.tick() { handler.hangUp(context, close) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil  // the task holds this handler: break the cycle
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
                onError(error)
                return .invalid(error.message)
            }
        }
        if let outcome { hangUp(context, outcome) }
    }

    /// Ends the session and closes the connection; a protocol error also sends AudioSocket's hangup.
    private func hangUp(_ context: ChannelHandlerContext, _ reason: MediaClose) {
        end(reason)
        var hangup = context.channel.allocator.buffer(capacity: 3)
        hangup.writeBytes([0x00, 0x00, 0x00])
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(hangup)).whenComplete { _ in channel.close(promise: nil) }
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
