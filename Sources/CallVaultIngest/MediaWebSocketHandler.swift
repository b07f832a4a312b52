import Logging
import NIOCore
import NIOWebSocket

/// Feeds one media WebSocket's messages to its ``MediaSession`` and keeps the protocol honest:
/// answers pings, reassembles fragmented messages up to a limit, closes with a reason on bad input.
///
/// The receive path allocates nothing per frame: frames are read from the inbound bytes here
/// (``WebSocketFrameHead``: no frame object per message), a frame's payload is unmasked into a scratch
/// buffer owned by the stream (grown, rarely, to the largest message seen) and handed to the session as
/// a view. Fragmented messages (rare for media) are gathered in a ByteBuffer first, as is a frame split
/// across reads. Reading pauses while the session asks (``ReadGate``).
final class MediaWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: any MediaSession
    private let maximumMessageBytes: Int
    private var fragments: ByteBuffer?
    /// The start of a frame whose end has not arrived yet.
    private var partial: ByteBuffer?
    /// The peer broke the framing: nothing more it sends is read.
    private var framingFailed = false
    private var fragmentOpcode: WebSocketOpcode = .text
    private var scratch: UnsafeMutableRawBufferPointer
    private var ended = false
    private var closeSent = false
    private var reads = ReadGate()
    private let tickInterval: TimeAmount?
    private var ticker: RepeatedTask?
    private let metrics: IngestMetrics
    private let logger: Logger

    init(
        session: any MediaSession, maximumMessageBytes: Int, tickInterval: TimeAmount? = nil,
        metrics: IngestMetrics, logger: Logger
    ) {
        self.session = session
        self.maximumMessageBytes = maximumMessageBytes
        self.tickInterval = tickInterval
        self.metrics = metrics
        self.logger = logger
        scratch = .allocate(byteCount: min(4096, maximumMessageBytes), alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// Checks the session's clocks (idle timeout, call length) every `tickInterval` on the channel's loop.
    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        session.attach(
            MediaStreamControl(
                close: { reason in
                    let (handler, context) = bound.value
                    handler.close(context, reason)
                },
                pauseReading: { pause in
                    let (handler, context) = bound.value
                    if pause { handler.reads.pause() } else { handler.reads.resume(context) }
                }))
        guard let tickInterval else { return }
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            let (handler, context) = bound.value
            if let close = handler.session.tick() { handler.close(context, close) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil  // the task holds this handler: break the cycle
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context)
    }

    /// Reads every whole frame in the bytes received so far; keeps the start of an unfinished one.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var partial {
            self.partial = nil
            partial.writeBuffer(&bytes)
            bytes = partial
        }
        while !framingFailed {
            let frame: (head: WebSocketFrameHead, payload: ByteBuffer)
            do throws(NIOWebSocketError) {
                guard let next = try WebSocketFrameHead.read(from: &bytes, maximumLength: maximumMessageBytes) else {
                    break
                }
                frame = next
            } catch {
                framingFailed = true
                return refuse(context, error)
            }
            receive(context, frame.head, frame.payload)
        }
        if bytes.readableBytes > 0 && !framingFailed { partial = bytes }
    }

    /// One frame: a message (whole or in fragments), or a control frame.
    private func receive(_ context: ChannelHandlerContext, _ frame: WebSocketFrameHead, _ payload: ByteBuffer) {
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return close(context, .policy("a new message started inside a fragmented one")) }
            if frame.fin {
                deliver(context, opcode: frame.opcode, payload, mask: frame.mask)
            } else {
                fragmentOpcode = frame.opcode
                var buffer = context.channel.allocator.buffer(capacity: frame.length * 2)
                var data = Self.unmasked(payload, frame.mask)
                buffer.writeBuffer(&data)
                fragments = buffer
            }
        case .continuation:
            guard var buffer = fragments else { return close(context, .policy("a continuation frame without a message")) }
            fragments = nil
            guard buffer.readableBytes + frame.length <= maximumMessageBytes else { return refuseTooLarge(context) }
            var data = Self.unmasked(payload, frame.mask)
            buffer.writeBuffer(&data)
            if frame.fin {
                deliver(context, opcode: fragmentOpcode, buffer, mask: nil)
            } else {
                fragments = buffer
            }
        case .ping:
            var payload = Self.unmasked(payload, frame.mask)
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: payload.readSlice(length: payload.readableBytes) ?? payload)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            end(.normal)
            if !closeSent {
                closeSent = true
                var payload = Self.unmasked(payload, frame.mask)
                let code = payload.readInteger(as: UInt16.self) ?? 1000
                var reply = context.channel.allocator.buffer(capacity: 2)
                reply.writeInteger(code)
                let channel = context.channel
                afterStored(context) { handler, context in
                    context.writeAndFlush(handler.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)))
                        .whenComplete { _ in channel.close(promise: nil) }
                }
            } else {
                context.close(promise: nil)
            }
        default:
            close(context, .policy("unknown WebSocket opcode"))
        }
    }

    /// A control frame's or a fragment's payload unmasked, in a buffer of its own (not the media path).
    private static func unmasked(_ payload: ByteBuffer, _ mask: UInt32?) -> ByteBuffer {
        var data = payload
        if let mask {
            data.withUnsafeMutableReadableBytes { bytes in
                for index in bytes.indices { bytes[index] ^= maskByte(mask, index) }
            }
        }
        return data
    }

    /// XORs `source` with a client's masking key into `target` (RFC 6455 §5.3), eight bytes at a time: the
    /// key's four bytes twice in one 64-bit word, laid out in memory order (so the machine's byte order
    /// does not matter), then the last few bytes one by one. `target` holds `source.count` bytes; it may
    /// be `source` itself.
    static func unmask(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer, mask: UInt32) {
        let inMemoryOrder = UInt64(mask.bigEndian)
        let key = inMemoryOrder | inMemoryOrder << 32
        let count = source.count
        var index = 0
        while index + 8 <= count {
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            target.storeBytes(of: word ^ key, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            target[index] = source[index] ^ maskByte(mask, index)
            index += 1
        }
    }

    /// The masking key's byte for payload byte `index` (the key's bytes in network order, repeating).
    private static func maskByte(_ mask: UInt32, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: mask >> (24 - 8 * (index & 3)))
    }

    /// Unmasks `data` into the scratch buffer and hands it to the session.
    private func deliver(_ context: ChannelHandlerContext, opcode: WebSocketOpcode, _ data: ByteBuffer, mask: UInt32?) {
        guard !ended else { return }
        let count = data.readableBytes
        guard count <= maximumMessageBytes else { return refuseTooLarge(context) }
        if count > scratch.count {
            scratch.deallocate()
            scratch = .allocate(byteCount: min(maximumMessageBytes, max(count, scratch.count * 2)), alignment: 16)
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
        data.withUnsafeReadableBytes { source in
            if let mask {
                Self.unmask(source, into: target, mask: mask)
            } else if count > 0 {
                target.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
            }
        }
        let message = UnsafeRawBufferPointer(target)
        let outcome = opcode == .text ? session.receiveText(message) : session.receiveBinary(message)
        if let outcome { close(context, outcome) }
    }

    /// Ends the session with `reason`, sends a close frame with it, and closes the connection.
    func close(_ context: ChannelHandlerContext, _ reason: MediaClose) {
        end(reason)
        guard !closeSent else { return }
        closeSent = true
        var payload = context.channel.allocator.buffer(capacity: 2 + reason.reason.utf8.count)
        payload.writeInteger(reason.code)
        // A close reason may carry at most 123 bytes.
        payload.writeBytes(reason.reason.utf8.prefix(123))
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        let channel = context.channel
        afterStored(context) { handler, context in
            context.writeAndFlush(handler.wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Runs `body` once the session's call is stored (at once when there is nothing to wait for), so the
    /// close the peer gets means its recordings are complete in the catalog. The loop is not held meanwhile.
    private func afterStored(
        _ context: ChannelHandlerContext, _ body: @escaping (MediaWebSocketHandler, ChannelHandlerContext) -> Void
    ) {
        guard let stored = session.stored else { return body(self, context) }
        let bound = NIOLoopBound((self, context, body), eventLoop: context.eventLoop)
        stored.whenComplete { _ in
            let (handler, context, body) = bound.value
            body(handler, context)
        }
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

    /// Closes the stream with 1009 for a message over `--max-message-bytes`: one frame too long (refused
    /// from its head, before its payload arrives) or a fragmented message whose parts add up to too much.
    private func refuseTooLarge(_ context: ChannelHandlerContext) {
        let reason = MediaClose(code: 1009, reason: "message larger than the \(maximumMessageBytes)-byte limit")
        refuse(context, kind: "websocket.messageTooLarge", reason)
    }

    /// Closes the stream for bad input found below the session: counted by kind and logged (the reason
    /// names a limit or a rule, never payload or token), once.
    private func refuse(_ context: ChannelHandlerContext, kind: String, _ reason: MediaClose) {
        guard !closeSent else { return }
        metrics.protocolError(kind)
        logger.notice("media stream refused", metadata: ["kind": "\(kind)", "reason": "\(reason.reason)"])
        close(context, reason)
    }

    /// Closes the stream for a frame that breaks RFC 6455: 1009 for one over the limit, else 1002.
    private func refuse(_ context: ChannelHandlerContext, _ error: NIOWebSocketError) {
        switch error {
        case .invalidFrameLength:
            refuseTooLarge(context)
        default:
            refuse(context, kind: "websocket.protocolError", MediaClose(code: 1002, reason: "protocol error: \(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError { return refuse(context, error) }
        close(context, .policy("protocol error: \(error)"))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdown { close(context, .goingAway) } else { context.fireUserInboundEventTriggered(event) }
    }
}

/// Sent down every media channel's pipeline when the server stops: sessions seal and close.
struct ServerShutdown: Sendable {}
