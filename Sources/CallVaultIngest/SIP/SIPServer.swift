import CallVaultSIP
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization

/// The SIP recording server (`callvault serve --sip udp:HOST:PORT --sip tcp:HOST:PORT --sip tls:HOST:PORT
/// --rtp-ports LOW-HIGH`), a service beside the WebSocket and AudioSocket listeners: SIPREC sessions from
/// SBCs and PBXs (and plain SIP calls to a tenant), recorded through the same consent gate, segmenter
/// and sealer. SIP over TLS (RFC 3261 §26.2) is the TCP framing inside TLS with the `--tls-cert` pair.
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
        var channels: [any Channel] = []
        do {
            try SIPServerConfiguration.check(configuration.listeners, hasCredentials: configuration.tls != nil, requireTLS: false)
            for listener in configuration.listeners { channels.append(try await bind(listener)) }
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
        // Contact and Via name the first listener of the transport a dialog came in on.
        var contacts: [SIPServerConfiguration.Transport: String] = [:]
        for (listener, address) in zip(configuration.listeners, addresses) where contacts[listener.transport] == nil {
            let host = configuration.advertisedAddress ?? address.ipAddress ?? "127.0.0.1"
            contacts[listener.transport] = host.contains(":") ? "[\(host)]:\(address.port ?? 5060)" : "\(host):\(address.port ?? 5060)"
        }
        let contactHostPorts = contacts
        try await agent.loop.submit { agent.contactHostPorts = contactHostPorts }.get()
        agent.start()
        let waiters = bound.withLock { state in
            state.addresses = addresses
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: addresses) }
        let described = zip(configuration.listeners, addresses).map { "\($0.transport.rawValue):\($1)" }
        agent.logger.info("sip listening", metadata: ["addresses": "\(described)"])
        await withGracefulShutdownHandler {
            try? await listening.first?.closeFuture.get()
        } onGracefulShutdown: {
            _ = agent.shutdown().always { _ in for channel in listening { channel.close(promise: nil) } }
        }
        for channel in listening { try? await channel.closeFuture.get() }
    }

    /// Binds one `--sip` listener: a UDP socket, or a TCP one whose connections carry SIP as a byte
    /// stream, for `tls` inside TLS with the current certificate (a SIGHUP reload reaches the next
    /// connection, open ones keep theirs).
    private func bind(_ listener: SIPServerConfiguration.Listener) async throws -> any Channel {
        let agent = self.agent
        let metrics = agent.metrics
        switch listener.transport {
        case .udp:
            return try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(agent: agent, metrics: metrics))
                    }
                }
                .bind(host: listener.host, port: listener.port).get()
        case .tcp, .tls:
            let transport = listener.transport
            let credentials = transport == .tls ? configuration.tls : nil
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let credentials { try channel.pipeline.syncOperations.addHandler(credentials.serverHandler()) }
                        try channel.pipeline.syncOperations.addHandler(
                            SIPStreamHandler(agent: agent, metrics: metrics, transport: transport))
                    }
                }
                .bind(host: listener.host, port: listener.port).get()
        }
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
        agent.receive(message, from: SIPPeer(channel: context.channel, address: envelope.remoteAddress, transport: .udp))
    }
}

/// One TCP connection, or the plaintext side of one TLS connection: a byte stream cut into messages by
/// Content-Length (``SIPFramer``). A framing error loses the stream's place, so the connection is closed.
private final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let agent: SIPUserAgent
    let metrics: IngestMetrics
    let transport: SIPServerConfiguration.Transport
    private var framer = SIPFramer()

    init(agent: SIPUserAgent, metrics: IngestMetrics, transport: SIPServerConfiguration.Transport) {
        self.agent = agent
        self.metrics = metrics
        self.transport = transport
    }

    /// A failed TLS handshake (a plain client on the TLS port, TLS below 1.2, no suite in common) is
    /// counted as `sip.tlsHandshakeFailed`; it, a reset or a TLS peer closing without `close_notify`
    /// closes the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed = error { metrics.protocolError("sip.tlsHandshakeFailed") }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { framer.append($0) }
        guard let remote = context.channel.remoteAddress else { return }
        do {
            while let message = try framer.nextMessage() {
                agent.receive(message, from: SIPPeer(channel: context.channel, address: remote, transport: transport))
            }
        } catch {
            metrics.protocolError("sip.malformed")
            context.close(promise: nil)
        }
    }
}
