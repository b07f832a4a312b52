import CallVaultArchive
import NIOCore
import NIOHTTP1

extension ConsoleHTTPHandler {
    /// Sends `stream` (streamed audio) after the head already written: produces a chunk off the event
    /// loop, writes and flushes it, and produces the next only once that write has completed (the socket
    /// took it), so a slow client holds one chunk, not the call. A chunk that cannot be produced (a segment
    /// that does not verify) closes the connection: the client sees the body cut short against its
    /// `content-length`, and nothing of the failed segment is sent. Logged without any audio.
    func send(_ stream: ConsoleBodyStream, context: ChannelHandlerContext, keepAlive: Bool) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let logger = console.logger
        streamProgress = .now()
        context.flush()
        Task(executorPreference: executor) {
            while true {
                let chunk: [UInt8]?
                do throws(RecorderError) { chunk = try await stream.next() } catch {
                    logger.warning(
                        "console audio stream cut: a segment could not be read",
                        metadata: ["code": "\(error.code)", "error": "\(error.message)"])
                    loop.execute {
                        bound.value.0.streamProgress = nil
                        bound.value.1.close(promise: nil)
                    }
                    return
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
                    // The client went away (or the channel closed): stop reading segments.
                    loop.execute { bound.value.0.streamProgress = nil }
                    return
                }
            }
            loop.execute {
                let (handler, context) = bound.value
                handler.streamProgress = nil
                let done = context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                if !keepAlive {
                    let channel = context.channel
                    done.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        }
    }
}
