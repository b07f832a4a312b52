public import Logging
public import NIOCore
import NIOWebSocket

/// The handlers a media WebSocket's channel runs once upgraded, in one place, so the server and code
/// that drives a channel without an HTTP upgrade (the socket-to-disk benchmark) run the same pipeline.
public enum MediaWebSocketPipeline {
    /// Adds what `NIOWebSocketServerUpgrader` adds (frame encoder and decoder, no automatic error
    /// handling: the media handler sends the close), then the media handler: for a channel whose bytes
    /// are already WebSocket frames.
    public static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations, session: any MediaSession, maximumMessageBytes: Int,
        metrics: IngestMetrics, logger: Logger
    ) throws {
        try pipeline.addHandler(WebSocketFrameEncoder())
        try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maximumMessageBytes)))
        try addMediaHandler(
            pipeline, session: session, maximumMessageBytes: maximumMessageBytes, tickInterval: nil, metrics: metrics,
            logger: logger)
    }

    /// Adds the media handler after the upgrader's frame codec: it feeds `session` the stream's messages.
    static func addMediaHandler(
        _ pipeline: ChannelPipeline.SynchronousOperations, session: any MediaSession, maximumMessageBytes: Int,
        tickInterval: TimeAmount?, metrics: IngestMetrics, logger: Logger
    ) throws {
        try pipeline.addHandler(
            MediaWebSocketHandler(
                session: session, maximumMessageBytes: maximumMessageBytes, tickInterval: tickInterval, metrics: metrics,
                logger: logger))
    }
}
