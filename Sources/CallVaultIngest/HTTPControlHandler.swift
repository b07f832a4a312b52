import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the control API on plain HTTP requests (those not upgraded to a media WebSocket).
///
/// Bodies are collected up to ``ControlAPI/maximumBodyBytes`` (then 413 and close); the API itself
/// runs as a task off the event loop (on the blocking pool's executor for the SQLite catalog), since it
/// reads and writes the catalog.
final class HTTPControlHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: ControlAPI
    private let executor: (any TaskExecutor)?
    private var collector = HTTPRequestCollector(limit: ControlAPI.maximumBodyBytes)
    /// Read at the connection's first request (its TLS handshake is complete by then) and kept for the rest.
    private var security: ConnectionSecurity?

    init(api: ControlAPI, executor: (any TaskExecutor)?) {
        self.api = api
        self.executor = executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let collected = collector.collect(unwrapInboundIn(data)) else { return }
        let (head, body, tooLarge) = (collected.head, collected.body, collected.tooLarge)
        if tooLarge {
            let response = ControlResponse.error(413, "body larger than \(ControlAPI.maximumBodyBytes) bytes")
            // The connection closes after this answer: the rest of a body that was never read could not
            // be told from the next request.
            return write(context, head: head, response, close: true)
        }
        let security = self.security ?? ConnectionSecurity.of(context.pipeline.syncOperations)
        self.security = security
        let request = ControlRequest(
            method: head.method.rawValue, target: head.uri,
            authorization: head.headers.first(name: "authorization"), body: body,
            remoteAddress: context.channel.remoteAddress?.ipAddress, security: security)
        let api = self.api
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: ControlResponse.self)
        Task(executorPreference: executor) { promise.succeed(await api.handle(request)) }
        promise.futureResult
            .whenComplete { result in
                let (handler, context) = bound.value
                let response =
                    (try? result.get()) ?? ControlResponse.error(503, "the server is shutting down")
                handler.write(context, head: head, response, close: false)
            }
    }

    /// On shutdown an idle keep-alive connection just closes (a request in flight still gets its answer
    /// first only if it is already written; control requests are idempotent or retried by clients).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdown {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func write(_ context: ChannelHandlerContext, head request: HTTPRequestHead, _ response: ControlResponse, close: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        for field in response.headers { headers.add(name: field.name, value: field.value) }
        let keepAlive = request.isKeepAlive && !close
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
