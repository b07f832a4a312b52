import NIOCore
import NIOHTTP1
import CallVaultIngest

/// Reads one HTTP/1 request at a time, runs the console on it off the event loop, writes its answer
/// with the security headers every response carries. Bodies over ``Console/maximumBodyBytes`` get 413.
final class ConsoleHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let console: Console
    let executor: (any TaskExecutor)?
    private var collector = HTTPRequestCollector(limit: Console.maximumBodyBytes)
    /// When a streamed body (``ConsoleFileBody``, ``ConsoleBodyStream``) last had a chunk taken by the client;
    /// nil when none is being sent.
    var streamProgress: NIODeadline?

    init(console: Console, executor: (any TaskExecutor)?) {
        self.console = console
        self.executor = executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let collected = collector.collect(unwrapInboundIn(data)) else { return }
        let (head, body, tooLarge) = (collected.head, collected.body, collected.tooLarge)
        let path = String(head.uri.split(separator: "?").first ?? "/")
        if tooLarge {
            let response = ConsoleResponse.problem(413, "Too large", "The request body is over \(Console.maximumBodyBytes) bytes.")
            return write(context, request: head, path: path, response, close: true)
        }
        let request = ConsoleRequest(
            method: head.method.rawValue, target: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body,
            clientAddress: context.channel.remoteAddress?.ipAddress ?? "?")
        let console = self.console
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: ConsoleResponse.self)
        Task(executorPreference: executor) { promise.succeed(await console.handle(request)) }
        promise.futureResult.whenComplete { result in
            let (handler, context) = bound.value
            let response = (try? result.get()) ?? ConsoleResponse.problem(503, "Unavailable", "The server is shutting down.")
            handler.write(context, request: head, path: path, response, close: false)
        }
    }

    /// A connection idle past the read timeout (``ConsoleServer`` adds the `IdleStateHandler`) is closed,
    /// so slow or abandoned clients do not hold sockets; so is one whose stream failed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // A client downloading a streamed body sends nothing while it reads: idle is then no chunk taken.
            if let progress = streamProgress, NIODeadline.now() - progress < ConsoleHTTPHandler.streamStallLimit { return }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func write(
        _ context: ChannelHandlerContext, request: HTTPRequestHead, path: String, _ response: ConsoleResponse, close: Bool
    ) {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        for (name, value) in ConsoleSecurityHeaders.headers(forPath: path, tls: console.tls) { headers.add(name: name, value: value) }
        headers.add(name: "content-length", value: String(response.contentLength))
        let keepAlive = request.isKeepAlive && !close
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let file = response.file, request.method != .HEAD {
            return send(file, context: context, keepAlive: keepAlive)
        }
        if let stream = response.stream, request.method != .HEAD {
            return send(stream, context: context, keepAlive: keepAlive)
        }
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
