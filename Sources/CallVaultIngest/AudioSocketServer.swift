import Foundation
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The Asterisk AudioSocket listener (`--audiosocket HOST:PORT`), a service beside ``IngestServer``.
///
/// On graceful shutdown it stops accepting, hangs up every open connection after its session sealed
/// what it had, and returns.
public final class AudioSocketServer: Service, Sendable {
    public let host: String
    public let port: Int
    let maxPayloadLength: Int
    /// How often each connection's session checks its limits; nil: never.
    let tickInterval: TimeAmount?
    let makeSession: AudioSocketSessionFactory
    let group: any EventLoopGroup
    let metrics: IngestMetrics
    let logger: Logger
    private let state = AudioSocketServerState()

    public init(
        host: String, port: Int, maxPayloadLength: Int = 16_384, tickInterval: TimeAmount? = .seconds(1),
        metrics: IngestMetrics = IngestMetrics(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        makeSession: @escaping AudioSocketSessionFactory
    ) {
        self.host = host
        self.port = port
        self.maxPayloadLength = maxPayloadLength
        self.tickInterval = tickInterval
        self.metrics = metrics
        self.logger = logger
        self.group = group
        self.makeSession = makeSession
    }

    public func run() async throws {
        let state = self.state
        let makeSession = self.makeSession
        let maxPayloadLength = self.maxPayloadLength
        let tickInterval = self.tickInterval
        let metrics = self.metrics
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.children.withLock { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = state.children.withLock { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = AudioSocketHandler(
                        session: makeSession(channel.eventLoop), maxPayloadLength: maxPayloadLength,
                        tickInterval: tickInterval, metrics: metrics, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do { channel = try await bootstrap.bind(host: host, port: port).get() } catch {
            // Whoever waits for the address learns that there will be none.
            let waiters = state.bound.withLock { bound in
                bound.failure = error
                defer { bound.waiters = [] }
                return bound.waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        let waiters = state.bound.withLock { bound in
            bound.address = channel.localAddress
            defer { bound.waiters = [] }
            return bound.waiters
        }
        if let address = channel.localAddress { for waiter in waiters { waiter.resume(returning: address) } }
        logger.info("audiosocket listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        let open = state.children.withLock { Array($0.values) }
        for child in open { child.pipeline.fireUserInboundEventTriggered(ServerShutdown()) }
        for child in open { try? await child.closeFuture.get() }
    }

    /// The bound address, once listening: with port 0, the port the system chose. Throws the bind's
    /// error if the server could not listen.
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            state.bound.withLock { bound in
                if let address = bound.address {
                    continuation.resume(returning: address)
                } else if let failure = bound.failure {
                    continuation.resume(throwing: failure)
                } else {
                    bound.waiters.append(continuation)
                }
            }
        }
    }
}

private final class AudioSocketServerState: Sendable {
    let bound = Mutex<
        (address: SocketAddress?, failure: (any Error)?, waiters: [CheckedContinuation<SocketAddress, any Error>])
    >((nil, nil, []))
    let children = Mutex<[ObjectIdentifier: any Channel]>([:])
}
