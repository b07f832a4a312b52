import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
import NIOWebSocket
public import ServiceLifecycle

/// The telephony ingest socket: the HTTP control API and the media WebSockets on one port.
///
/// Runs as a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting, tells every
/// open media stream to seal and close (``MediaSession/end(_:)`` with 1001 "going away"), waits for
/// them, and returns. `SO_REUSEADDR` lets a restarted server bind the same port at once (after
/// `kill -9`, too).
public final class IngestServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The largest WebSocket message accepted (Twilio media messages are ~400 bytes).
        public var maximumMessageBytes: Int
        /// How long open streams get to seal and close on shutdown before they are cut.
        public var shutdownGracePeriod: Duration
        /// How often each stream's session checks its limits (idle timeout, call length); nil: never.
        public var tickInterval: TimeAmount?
        /// TLS for HTTPS and WSS on the same port (`--tls-cert`/`--tls-key`); nil: plain only.
        public var tls: TLSCredentials?
        /// Refuse plain connections when TLS is configured (`--require-tls`), with a message saying so.
        public var requireTLS: Bool = false

        public init(
            host: String = "127.0.0.1", port: Int = 8080, maximumMessageBytes: Int = 64 * 1024,
            shutdownGracePeriod: Duration = .seconds(10), tickInterval: TimeAmount? = .seconds(1)
        ) {
            self.tickInterval = tickInterval
            self.host = host
            self.port = port
            self.maximumMessageBytes = maximumMessageBytes
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    public let configuration: Configuration
    let api: ControlAPI
    let makeSession: MediaSessionFactory
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool
    let metrics: IngestMetrics
    let logger: Logger
    private let state = ServerState()

    public init(
        configuration: Configuration, api: ControlAPI, metrics: IngestMetrics = IngestMetrics(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton,
        makeSession: @escaping MediaSessionFactory
    ) {
        self.configuration = configuration
        self.api = api
        self.metrics = metrics
        self.logger = logger
        self.group = group
        self.threadPool = threadPool
        self.makeSession = makeSession
    }

    /// Binds, serves until graceful shutdown (or task cancellation), then closes every stream.
    public func run() async throws {
        let channel = try await bind()
        logger.info("ingest listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        try? await channel.close()
        // Tell every open stream to seal and close, and wait until they are gone.
        let open = state.children.withLock { Array($0.values) }
        for child in open { child.pipeline.fireUserInboundEventTriggered(ServerShutdown()) }
        // Streams seal their last segment and close; one that does not within the grace period is cut.
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        for child in open {
            while child.isActive && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
            if child.isActive { try? await child.close() }
        }
        logger.info("ingest stopped", metadata: ["streamsClosed": "\(open.count)"])
    }

    /// The address the server listens on, once it does: with port 0 in the configuration, the port
    /// the system chose. Throws the bind's error if the server could not listen.
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            state.bound.withLock { state in
                if let address = state.channel?.localAddress {
                    continuation.resume(returning: address)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    private func bind() async throws -> any Channel {
        let api = self.api
        let executor: (any TaskExecutor)? = api.catalog is Catalog ? ThreadPoolTaskExecutor(pool: threadPool) : nil
        let maximumMessageBytes = configuration.maximumMessageBytes
        let tickInterval = configuration.tickInterval
        let makeSession = self.makeSession
        let metrics = self.metrics
        let logger = self.logger
        let state = self.state
        let tls = configuration.tls
        let requireTLS = configuration.requireTLS
        // The media handler reads frames itself (it refuses one over the limit from its head) and sends the
        // close: a stream gets exactly one, with a reason.
        let upgrader = MediaWebSocketUpgrader(
            shouldUpgrade: { channel, head in
                Self.authenticate(head, from: channel, api: api, executor: executor).map { outcome in
                    switch outcome {
                    case .some(.failure): nil  // a token was given and refused: the HTTP handler answers 401
                    default: HTTPHeaders()
                    }
                }
            },
            pipeline: { channel, head in
                guard let endpoint = MediaEndpoint(rawValue: String(head.uri.split(separator: "?").first ?? "")) else {
                    return channel.close()
                }
                return Self.authenticate(head, from: channel, api: api, executor: executor)
                    .flatMapThrowing { outcome in
                        let tenant = try? outcome?.get()
                        let security = ConnectionSecurity.of(channel.pipeline.syncOperations)
                        let session = makeSession(endpoint, tenant, security, channel.eventLoop)
                        try MediaWebSocketPipeline.configure(
                            channel.pipeline.syncOperations, session: session, maximumMessageBytes: maximumMessageBytes,
                            tickInterval: tickInterval, metrics: metrics, logger: logger)
                    }
            }
        )
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.children.withLock { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = state.children.withLock { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            TLSSniffingHandler(credentials: tls, requireTLS: requireTLS, metrics: metrics))
                    }
                    let control = HTTPControlHandler(api: api, executor: executor)
                    let boundControl = NIOLoopBound(control, eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            // Upgraded: the media handler takes over; plain HTTP handling leaves.
                            _ = context.pipeline.syncOperations.removeHandler(boundControl.value)
                        }))
                    try channel.pipeline.syncOperations.addHandler(control)
                }
            }
        let channel: any Channel
        do { channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get() } catch {
            // Whoever waits for the address learns that there will be none.
            let waiters = state.bound.withLock { state in
                state.failure = error
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        let waiters = state.bound.withLock { state in
            state.channel = channel
            defer { state.waiters = [] }
            return state.waiters
        }
        if let address = channel.localAddress {
            for waiter in waiters { waiter.resume(returning: address) }
        }
        return channel
    }

    /// Authenticates the token of an upgrade request, if it carries one, off the event loop.
    /// nil: no token given (Twilio may send it in `start`); `.failure`: a token was given and refused (or
    /// the address is throttled). Not counted here: a refused upgrade is answered, and counted, by the
    /// control API's handler.
    private static func authenticate(
        _ head: HTTPRequestHead, from channel: any Channel, api: ControlAPI, executor: (any TaskExecutor)?
    ) -> EventLoopFuture<Result<Tenant, ControlFailure>?> {
        let eventLoop = channel.eventLoop
        let address = channel.remoteAddress?.ipAddress
        let request = ControlRequest(
            method: head.method.rawValue, target: head.uri, authorization: head.headers.first(name: "authorization"))
        guard let token = request.bearerToken ?? request.query("token") else {
            return eventLoop.makeSucceededFuture(nil)
        }
        let promise = eventLoop.makePromise(of: Result<Tenant, ControlFailure>?.self)
        Task(executorPreference: executor) {
            promise.succeed(await api.authenticate(token, from: address, counting: false))
        }
        return promise.futureResult
    }
}

/// What the server shares between its event loops: the listening channel (or why there is none, and
/// who waits for its address) and the open connections (to close them on shutdown).
private final class ServerState: Sendable {
    let bound = Mutex<
        (channel: (any Channel)?, failure: (any Error)?, waiters: [CheckedContinuation<SocketAddress, any Error>])
    >((nil, nil, []))
    let children = Mutex<[ObjectIdentifier: any Channel]>([:])
}
