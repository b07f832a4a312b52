public import CallVaultIngest
import CallVaultStore
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The console's own listener (`serve --console HOST:PORT`), apart from the ingest port so that it can
/// be kept off the public network; HTTPS with serve's `--tls-cert`/`--tls-key` when given. A
/// swift-service-lifecycle `Service`: on graceful shutdown it stops accepting and closes.
public final class ConsoleServer: Service, Sendable {
    public let console: Console
    let configuration: ConsoleConfiguration
    let tls: TLSCredentials?
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool
    /// Whether the pool is the console's own, shut down when it stops.
    let ownsThreadPool: Bool
    let logger: Logger
    private let bound = Mutex<(address: SocketAddress?, failure: (any Error)?, waiters: [CheckedContinuation<SocketAddress, any Error>])>(
        (nil, nil, []))

    /// - Parameter threadPool: where pages run (the SQLite catalog's transactions and scrypt hold a
    ///   thread); by default a pool of two threads of the console's own, so that a flood of sign-ins
    ///   (32 MiB and ~0.1 s of scrypt each) never delays the ingest's catalog work on the shared pool.
    public init(
        console: Console, tls: TLSCredentials?, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool? = nil
    ) {
        ownsThreadPool = threadPool == nil
        self.console = console
        self.configuration = console.configuration
        self.tls = tls
        self.group = group
        self.threadPool = threadPool ?? NIOThreadPool(numberOfThreads: 2)
        self.logger = logger
    }

    public func run() async throws {
        let console = self.console
        let tls = self.tls
        // The SQLite catalog's transactions (and scrypt) hold a pool thread, not a cooperative one.
        threadPool.start()
        let executor: (any TaskExecutor)? = ThreadPoolTaskExecutor(pool: threadPool)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(tls.serverHandler()) }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(120)))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ConsoleHTTPHandler(console: console, executor: executor))
                }
            }
        let channel: any Channel
        do { channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get() } catch {
            let waiters = bound.withLock { state in
                state.failure = error
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        if let address = channel.localAddress {
            let waiters = bound.withLock { state in
                state.address = address
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: address) }
        }
        logger.info("console listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "tls": "\(tls != nil)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
        try? await channel.close()
        if ownsThreadPool { try? await threadPool.shutdownGracefully() }
    }

    /// The address bound, once it is (port 0: the one the system chose); throws the bind's error.
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            bound.withLock { state in
                if let address = state.address {
                    continuation.resume(returning: address)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    /// `http://HOST:PORT` or `https://…`, for the `listening` line.
    public func url() async throws -> String {
        let address = try await localAddress()
        return "\(tls == nil ? "http" : "https")://\(address.ipAddress ?? configuration.host):\(address.port ?? 0)"
    }
}
