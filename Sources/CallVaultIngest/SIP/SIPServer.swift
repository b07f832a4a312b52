import CallVaultSIP
public import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The SIP recording server (`callvault serve --sip udp:HOST:PORT --sip tcp:HOST:PORT --rtp-ports
/// LOW-HIGH`), a service beside the WebSocket and AudioSocket listeners: SIPREC sessions from SBCs and
/// PBXs (and plain SIP calls to a tenant), recorded through the same consent gate, segmenter and sealer.
///
/// On graceful shutdown it sends every dialog a BYE, seals every recording and returns once their
/// calls are stored.
public final class SIPServer: Service, Sendable {
    public let configuration: SIPServerConfiguration
    private let agent: SIPUserAgent
    private let group: any EventLoopGroup
    private let bound = Mutex<(addresses: [SocketAddress]?, failure: (any Error)?, waiters: [CheckedContinuation<[SocketAddress], any Error>])>(
        (nil, nil, []))

    public init(
        configuration: SIPServerConfiguration, context: IngestContext,
        group: any EventLoopGroup
    ) {
        self.configuration = configuration
        self.group = group
        agent = SIPUserAgent(loop: group.next(), configuration: configuration, context: context, callLoops: group)
    }

    public func run() async throws {
        let agent = self.agent
        let metrics = agent.metrics
        var channels: [any Channel] = []
        do {
            for listener in configuration.listeners {
                switch listener.transport {
                case .udp:
                    let channel = try await DatagramBootstrap(group: group)
                        .channelOption(.socketOption(.so_reuseaddr), value: 1)
                        .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(agent: agent, metrics: metrics))
                            }
                        }
                        .bind(host: listener.host, port: listener.port).get()
                    channels.append(channel)
                case .tcp:
                    let channel = try await ServerBootstrap(group: group)
                        .serverChannelOption(.backlog, value: 256)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                        .childChannelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(SIPStreamHandler(agent: agent, metrics: metrics))
                            }
                        }
                        .bind(host: listener.host, port: listener.port).get()
                    channels.append(channel)
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            let waiters = bound.withLock { state in
                state.failure = error
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        let listening = channels
        let addresses = listening.compactMap(\.localAddress)
        if let first = addresses.first {
            let host = configuration.advertisedAddress ?? first.ipAddress ?? "127.0.0.1"
            let hostPort = host.contains(":") ? "[\(host)]:\(first.port ?? 5060)" : "\(host):\(first.port ?? 5060)"
            try await agent.loop.submit { agent.contactHostPort = hostPort }.get()
        }
        agent.start()
        let waiters = bound.withLock { state in
            state.addresses = addresses
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: addresses) }
        agent.logger.info("sip listening", metadata: ["addresses": "\(addresses.map { "\($0)" })"])
        await withGracefulShutdownHandler {
            try? await listening.first?.closeFuture.get()
        } onGracefulShutdown: {
            _ = agent.shutdown().always { _ in for channel in listening { channel.close(promise: nil) } }
        }
        for channel in listening { try? await channel.closeFuture.get() }
    }

    /// The bound addresses in `--sip` order, once listening (port 0: the port the system chose).
    public func localAddresses() async throws -> [SocketAddress] {
        try await withCheckedThrowingContinuation { continuation in
            bound.withLock { state in
                if let addresses = state.addresses {
                    continuation.resume(returning: addresses)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }
}

/// One UDP socket: each datagram is one SIP message (RFC 3261 §18.3). Unparseable ones are counted and
/// dropped: without a parsed Via there is nowhere to answer.
private final class SIPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let agent: SIPUserAgent
    let metrics: IngestMetrics

    init(agent: SIPUserAgent, metrics: IngestMetrics) {
        self.agent = agent
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let message: SIPMessage?
        do {
            message = try envelope.data.withUnsafeReadableBytes { bytes throws(SIPParseError) in try SIPMessage.parse(datagram: bytes) }
        } catch {
            metrics.protocolError("sip.malformed")
            return
        }
        guard let message else { return }  // a keep-alive
        agent.receive(message, from: SIPPeer(channel: context.channel, address: envelope.remoteAddress, isStream: false))
    }
}

/// One TCP connection: a byte stream cut into messages by Content-Length (``SIPFramer``). A framing
/// error loses the stream's place, so the connection is closed.
private final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let agent: SIPUserAgent
    let metrics: IngestMetrics
    private var framer = SIPFramer()

    init(agent: SIPUserAgent, metrics: IngestMetrics) {
        self.agent = agent
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { framer.append($0) }
        guard let remote = context.channel.remoteAddress else { return }
        do {
            while let message = try framer.nextMessage() {
                agent.receive(message, from: SIPPeer(channel: context.channel, address: remote, isStream: true))
            }
        } catch {
            metrics.protocolError("sip.malformed")
            context.close(promise: nil)
        }
    }
}
