import Logging
import NIOCore
import NIOWebSocket

/// Feeds one media WebSocket's messages to its ``MediaSession`` and keeps the protocol honest:
/// answers pings, reassembles fragmented messages up to a limit, closes with a reason on bad input.
///
/// The receive path allocates nothing per frame: frames are read from the inbound bytes here
/// (``WebSocketFrameHead``: no frame object per message), a frame's payload is unmasked into a scratch
/// buffer owned by the stream (grown, rarely, to the largest message seen) and handed to the session as
/// a view. Fragmented messages (rare for media) are gathered in a ByteBuffer first; a frame split across
/// reads is completed in a buffer of the stream's own (`pending`, at most one frame), and the frames
/// after it are read from the new bytes in place. Reading pauses while the session asks (``ReadGate``).
///
/// A client that breaks RFC 6455 (a bad head, a continuation without a message, a new message inside a
/// fragmented one, a bad close payload) gets one close with 1002 (1009 for a message over the limit,
/// 1007 for a close reason that is not UTF-8), and nothing more it sends is read; after its close frame,
/// nothing more is read either.
final class MediaWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: any MediaSession
    private let maximumMessageBytes: Int
    private var fragments: ByteBuffer?
    /// The start of a frame whose end has not arrived yet (empty between frames), kept across frames so
    /// its storage is reused.
    private var pending = ByteBuffer()
    /// The peer broke the protocol or sent its close: nothing more it sends is read.
    private var readingStopped = false
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
        guard !readingStopped else { return }
        var bytes = unwrapInboundIn(data)
        if pending.readableBytes > 0 {
            guard completePending(context, &bytes) else { return }
        }
        while !readingStopped {
            let step: WebSocketFrameHead.Step
            do throws(WebSocketFrameError) {
                step = try WebSocketFrameHead.next(from: &bytes, maximumLength: maximumMessageBytes)
            } catch {
                return refuse(context, error)
            }
            guard case .frame(let head, let payload) = step else { break }
            receive(context, head, payload)
        }
        if !readingStopped && bytes.readableBytes > 0 {
            pending.clear()
            pending.writeBuffer(&bytes)
        }
    }

    /// Moves bytes from `bytes` to the unfinished frame in `pending`, no more than it needs, and receives
    /// it once whole. False while it is still unfinished (every byte taken) or once reading stopped.
    private func completePending(_ context: ChannelHandlerContext, _ bytes: inout ByteBuffer) -> Bool {
        while true {
            let step: WebSocketFrameHead.Step
            do throws(WebSocketFrameError) {
                step = try WebSocketFrameHead.next(from: &pending, maximumLength: maximumMessageBytes)
            } catch {
                refuse(context, error)
                return false
            }
            switch step {
            case .frame(let head, let payload):
                receive(context, head, payload)
                pending.clear()
                return !readingStopped
            case .needs(let total):
                guard bytes.readableBytes > 0 else { return false }
                var part = bytes.readSlice(length: min(total - pending.readableBytes, bytes.readableBytes))!
                pending.writeBuffer(&part)
            }
        }
    }

    /// One frame: a message (whole or in fragments), or a control frame.
    private func receive(_ context: ChannelHandlerContext, _ frame: WebSocketFrameHead, _ payload: ByteBuffer) {
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else {
                return refuse(context, .protocolViolation("a new message started inside a fragmented one"))
            }
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
            guard var buffer = fragments else {
                return refuse(context, .protocolViolation("a continuation frame without a message"))
            }
            fragments = nil
            guard buffer.readableBytes + frame.length <= maximumMessageBytes else { return refuse(context, .tooLarge) }
            var data = Self.unmasked(payload, frame.mask)
            buffer.writeBuffer(&data)
            if frame.fin {
                deliver(context, opcode: fragmentOpcode, buffer, mask: nil)
            } else {
                fragments = buffer
            }
        case .ping:
            // Nothing goes out after our close (RFC 6455 §5.5.1), which may already be written.
            guard !closeSent else { return }
            var payload = Self.unmasked(payload, frame.mask)
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: payload.readSlice(length: payload.readableBytes) ?? payload)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            receiveClose(context, Self.unmasked(payload, frame.mask))
        default:
            // WebSocketFrameHead refuses every other opcode.
            refuse(context, .protocolViolation("unknown opcode"))
        }
    }

    /// The peer's close (RFC 6455 §5.5.1, §7.4): answered with a close carrying its code (1000 for an
    /// empty one) once the call is stored; nothing more is read. A payload of one byte or a code no
    /// endpoint may send is refused with 1002, a reason that is not UTF-8 with 1007.
    private func receiveClose(_ context: ChannelHandlerContext, _ payload: ByteBuffer) {
        var payload = payload
        var code: UInt16 = 1000
        if payload.readableBytes > 0 {
            guard let received = payload.readInteger(as: UInt16.self) else {
                return refuse(context, .protocolViolation("a close frame with a one-byte payload"))
            }
            guard Self.isValidCloseCode(received) else {
                return refuse(context, .protocolViolation("a close code no endpoint may send"))
            }
            guard payload.withUnsafeReadableBytes({ Self.isValidUTF8($0) }) else {
                return refuse(
                    context, kind: "websocket.invalidCloseReason",
                    MediaClose(code: 1007, reason: "close reason is not UTF-8"))
            }
            code = received
        }
        readingStopped = true
        end(.normal)
        if !closeSent {
            closeSent = true
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
    }

    /// The close codes a peer may send (RFC 6455 §7.4.1, the IANA registry's 1012–1014, and the
    /// 3000–4999 ranges for libraries and applications); 1005, 1006 and 1015 are never sent.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// A control frame's or a fragment's payload unmasked, in a buffer of its own (not the media path).
    private static func unmasked(_ payload: ByteBuffer, _ mask: UInt32) -> ByteBuffer {
        var data = payload
        data.withUnsafeMutableReadableBytes { bytes in
            for index in bytes.indices { bytes[index] ^= maskByte(mask, index) }
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

    /// Closes the stream for a frame that breaks RFC 6455 (1009 for one over the limit, else 1002) and
    /// reads nothing more from it.
    private func refuse(_ context: ChannelHandlerContext, _ error: WebSocketFrameError) {
        readingStopped = true
        fragments = nil
        pending.clear()
        switch error {
        case .tooLarge:
            refuseTooLarge(context)
        case .protocolViolation(let rule):
            refuse(context, kind: "websocket.protocolError", MediaClose(code: 1002, reason: "protocol error: \(rule)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context, .policy("protocol error: \(error)"))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdown { close(context, .goingAway) } else { context.fireUserInboundEventTriggered(event) }
    }
}

/// Sent down every media channel's pipeline when the server stops: sessions seal and close.
struct ServerShutdown: Sendable {}
