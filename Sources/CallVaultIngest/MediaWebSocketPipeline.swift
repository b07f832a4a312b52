public import Logging
public import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The handlers a media WebSocket's channel runs once upgraded, in one place, so the server and code
/// that drives a channel without an HTTP upgrade (the socket-to-disk benchmark) run the same pipeline.
public enum MediaWebSocketPipeline {
    /// Adds NIO's frame encoder (the close, pong and ping frames the server sends) and the media
    /// handler, which reads the client's frames itself (``WebSocketFrameHead``): for a channel whose
    /// bytes are already WebSocket frames.
    public static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations, session: any MediaSession, maximumMessageBytes: Int,
        tickInterval: TimeAmount? = nil, metrics: IngestMetrics, logger: Logger
    ) throws {
        try pipeline.addHandler(WebSocketFrameEncoder())
        try pipeline.addHandler(
            MediaWebSocketHandler(
                session: session, maximumMessageBytes: maximumMessageBytes, tickInterval: tickInterval, metrics: metrics,
                logger: logger))
    }
}

/// The media endpoints' WebSocket upgrade: NIO's handshake (`NIOWebSocketServerUpgrader` checks the
/// request and builds the response), then `pipeline` in place of NIO's frame decoder, which would make
/// a frame object per message.
struct MediaWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake: NIOWebSocketServerUpgrader
    private let pipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<Void>

    /// - Parameters:
    ///   - shouldUpgrade: the extra response headers, or nil to refuse the upgrade (NIO's meaning).
    ///   - pipeline: sets up the upgraded channel (``MediaWebSocketPipeline/configure``).
    init(
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        pipeline: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<Void>
    ) {
        // NIO's upgrader is used for its handshake only: `upgrade` below never calls into it.
        handshake = NIOWebSocketServerUpgrader(
            shouldUpgrade: shouldUpgrade, upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
        self.pipeline = pipeline
    }

    var supportedProtocol: String { handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(
            channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        pipeline(context.channel, upgradeRequest)
    }
}
