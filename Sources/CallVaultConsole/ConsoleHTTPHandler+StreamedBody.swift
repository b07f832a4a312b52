import CallVaultArchive
import NIOCore
import NIOHTTP1

extension ConsoleHTTPHandler {
    /// How long a streamed body may wait for the client to take a chunk before the connection is closed (the
    /// listener's read timeout, which a client that only downloads would otherwise run into mid-body).
    static let streamStallLimit = TimeAmount.seconds(120)

    /// Sends `file` (the subject export's ZIP) after the head already written, a chunk
    /// (``ConsoleFileBody/chunkBytes``) at a time. A failed read cuts the body.
    func send(_ file: ConsoleFileBody, context: ChannelHandlerContext, keepAlive: Bool) {
        send(chunks: file.next, context: context, keepAlive: keepAlive)
    }

    /// Sends `stream` (streamed audio) after the head already written. A chunk that cannot be produced (a
    /// segment that does not verify) cuts the body, and nothing of the failed segment is sent. Logged without
    /// any audio.
    func send(_ stream: ConsoleBodyStream, context: ChannelHandlerContext, keepAlive: Bool) {
        let logger = console.logger
        send(chunks: stream.next, context: context, keepAlive: keepAlive) { error in
            logger.warning(
                "console audio stream cut: a segment could not be read",
                metadata: ["code": "\(error.code)", "error": "\(error.message)"])
        }
    }

    /// The one send loop of every chunked body: produces a chunk off the event loop, writes and flushes it,
    /// and asks `next` for another only once that write has completed (the socket took it), so a slow client
    /// holds one chunk, not the body. A chunk that cannot be produced (`cut` notes why) or a write that fails
    /// closes the connection: the client sees the body short against its `content-length`, never a
    /// complete-looking one. After the last chunk the connection is kept alive if the request asked for it.
    private func send<Failure: Error>(
        chunks next: @escaping @Sendable () async throws(Failure) -> [UInt8]?,
        context: ChannelHandlerContext, keepAlive: Bool,
        cut: @escaping @Sendable (Failure) -> Void = { _ in }
    ) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        streamProgress = .now()
        // The head goes out now, even if the first chunk takes a while (audio is decrypted as it is sent).
        context.flush()
        // On the console's own threads, as requests are answered: the cooperative pool may be busy
        // (blocked) elsewhere in the process, and a body must not wait for it.
        Task(executorPreference: executor) {
            while true {
                let chunk: [UInt8]?
                do throws(Failure) { chunk = try await next() } catch {
                    cut(error)
                    return loop.execute { bound.value.0.closeCutStream(bound.value.1) }
                }
                guard let chunk else { break }
                do {
                    try await loop.flatSubmit {
                        let (handler, context) = bound.value
                        let buffer = context.channel.allocator.buffer(bytes: chunk)
                        // Completed on the channel's loop, where the handler's state lives.
                        return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer)))).map {
                            bound.value.0.streamProgress = .now()
                        }
                    }.get()
                } catch {
                    // The client went away (or the channel closed): stop producing chunks.
                    return loop.execute { bound.value.0.closeCutStream(bound.value.1) }
                }
            }
            loop.execute {
                let (handler, context) = bound.value
                handler.streamProgress = nil
                let channel = context.channel
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).whenComplete { result in
                    // A connection whose end could not be written is of no use for another request.
                    guard keepAlive, case .success = result else { return channel.close(promise: nil) }
                }
            }
        }
    }

    /// Ends a body cut short: no chunk is in flight any more, and the connection goes.
    private func closeCutStream(_ context: ChannelHandlerContext) {
        streamProgress = nil
        context.close(promise: nil)
    }
}
