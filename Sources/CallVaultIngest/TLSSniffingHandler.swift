import NIOCore
import NIOHTTP1

/// The first handler of a connection on a listener with TLS: looks at the first byte and either puts
/// TLS in front of the HTTP/WebSocket pipeline (a TLS handshake starts with 0x16) or, for a plain
/// connection, lets it through — unless TLS is required, when the peer gets a one-line HTTP 400
/// saying to use `https://`/`wss://`, and the connection is closed.
final class TLSSniffingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let credentials: TLSCredentials
    private let requireTLS: Bool
    private let metrics: IngestMetrics

    init(credentials: TLSCredentials, requireTLS: Bool, metrics: IngestMetrics) {
        self.credentials = credentials
        self.requireTLS = requireTLS
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        if first == 0x16 {
            do {
                try context.pipeline.syncOperations.addHandler(
                    credentials.serverHandlerRequestingClientCertificate(), position: .after(self))
            } catch {
                context.close(promise: nil)
                return
            }
        } else if requireTLS {
            metrics.protocolError("tls.plainRefused")
            let body = "plain connections are refused here: use https:// or wss:// (serve --require-tls)\n"
            var response = context.channel.allocator.buffer(capacity: 160)
            response.writeString(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(response)).whenComplete { _ in bound.value.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
