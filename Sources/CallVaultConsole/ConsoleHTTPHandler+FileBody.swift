import NIOCore
import NIOHTTP1

extension ConsoleHTTPHandler {
    /// Sends `file` after the head already written: reads a chunk off the event loop, writes and flushes it,
    /// and reads the next only once that write has completed (the socket took it), so a slow client holds
    /// at most one chunk (``ConsoleFileBody/chunkBytes``) in memory. A failed read or write closes the
    /// connection (the client sees a body shorter than its `content-length`, never a complete-looking one).
    func stream(_ file: ConsoleFileBody, context: ChannelHandlerContext, keepAlive: Bool) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            var offset = 0
            do {
                while offset < file.count {
                    let chunk = try file.chunk(at: offset)
                    offset += chunk.count
                    try await loop.flatSubmit {
                        let (handler, context) = bound.value
                        var buffer = context.channel.allocator.buffer(capacity: chunk.count)
                        buffer.writeBytes(chunk)
                        return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer))))
                    }.get()
                }
                try await loop.flatSubmit {
                    let (handler, context) = bound.value
                    return context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                }.get()
                if !keepAlive { loop.execute { bound.value.1.close(promise: nil) } }
            } catch {
                loop.execute { bound.value.1.close(promise: nil) }
            }
        }
    }
}
