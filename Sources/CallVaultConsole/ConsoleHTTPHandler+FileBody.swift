import NIOCore
import NIOHTTP1

extension ConsoleHTTPHandler {
    /// How long a streamed body may wait for the client to take a chunk before the connection is closed (the
    /// listener's read timeout, which a client that only downloads would otherwise run into mid-body).
    static let streamStallLimit = TimeAmount.seconds(120)

    /// Sends `file` after the head already written: reads a chunk off the event loop, writes and flushes it,
    /// and reads the next only once that write has completed (the socket took it), so a slow client holds
    /// at most one chunk (``ConsoleFileBody/chunkBytes``) in memory. A failed read or write closes the
    /// connection (the client sees a body shorter than its `content-length`, never a complete-looking one).
    func stream(_ file: ConsoleFileBody, context: ChannelHandlerContext, keepAlive: Bool) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        streamProgress = .now()
        // On the console's own threads, as requests are answered: the cooperative pool may be busy
        // (blocked) elsewhere in the process, and a body must not wait for it.
        Task(executorPreference: executor) {
            var offset = 0
            do {
                while offset < file.count {
                    let chunk = try file.chunk(at: offset)
                    offset += chunk.count
                    try await loop.flatSubmit {
                        let (handler, context) = bound.value
                        var buffer = context.channel.allocator.buffer(capacity: chunk.count)
                        buffer.writeBytes(chunk)
                        // Completed on the channel's loop, where the handler's state lives.
                        return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer)))).map {
                            bound.value.0.streamProgress = .now()
                        }
                    }.get()
                }
                try await loop.flatSubmit {
                    let (handler, context) = bound.value
                    handler.streamProgress = nil
                    return context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                }.get()
                if !keepAlive { loop.execute { bound.value.1.close(promise: nil) } }
            } catch {
                loop.execute {
                    bound.value.0.streamProgress = nil
                    bound.value.1.close(promise: nil)
                }
            }
        }
    }
}
