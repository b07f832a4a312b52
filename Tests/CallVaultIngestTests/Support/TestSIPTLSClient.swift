import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A blocking SIP client over TLS (RFC 3261 §26.2) on 127.0.0.1 for tests, on swift-nio-ssl's client:
/// it trusts only the given certificate and checks it names 127.0.0.1, sends requests as an SRC on a
/// TLS connection would (Via `SIP/2.0/TLS`, Contact `;transport=tls`) and reads what the server sends,
/// cut into messages by Content-Length as on TCP.
final class TestSIPTLSClient {
    let channel: any Channel
    let localPort: Int
    let serverPort: Int
    let callID: String
    let fromTag = "src\(UInt32.random(in: 1...UInt32.max))"
    /// The server's tag, once a response carried one.
    var toTag: String?
    private let inbox: Inbox

    /// Connects and completes the TLS handshake; throws if the handshake fails (an untrusted certificate).
    init(serverPort: Int, trusting certificatePath: String, callID: String = "call-\(UUID().uuidString)@src.test") throws {
        self.serverPort = serverPort
        self.callID = callID
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
        configuration.certificateVerification = .fullVerification  // no host name: the certificate must name the peer's IP
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        let inbox = Inbox()
        channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: serverPort).wait()
        self.inbox = inbox
        localPort = channel.localAddress?.port ?? 0
        try inbox.waitForHandshake(timeout: 10)
    }

    deinit { channel.close(promise: nil) }

    func send(_ text: String) {
        channel.writeAndFlush(channel.allocator.buffer(string: text), promise: nil)
    }

    /// The next message as text; nil on timeout or once the connection is closed.
    func receive(timeout: TimeInterval = 5) -> String? {
        guard let text = inbox.nextMessage(timeout: timeout) else { return nil }
        if toTag == nil { toTag = TestSIPClient.toTag(in: text) }
        return text
    }

    /// The next final response (provisional ones skipped) or request from the server; nil on timeout.
    func receiveFinal() -> String? {
        while let text = receive() {
            if text.hasPrefix("SIP/2.0 1") { continue }
            return text
        }
        return nil
    }

    /// A request of this dialog over TLS. `inDialog` adds the server's To tag.
    func request(
        _ method: String, cseq: Int, inDialog: Bool = false, branch: String? = nil, headers: [String] = [],
        contentType: String? = nil, body: String = ""
    ) -> String {
        TestSIPClient.request(
            method, cseq: cseq, transport: "TLS", dialog: (localPort, serverPort, callID, fromTag, inDialog ? toTag ?? "" : nil),
            branch: branch, headers: headers, contentType: contentType, body: body)
    }

    /// The bytes the connection delivered, the handshake's outcome, and whether it closed; guarded by `condition`.
    private final class Inbox: @unchecked Sendable {
        let condition = NSCondition()
        var bytes: [UInt8] = []
        var handshake: Result<Void, any Error>?
        var closed = false

        func update(_ change: (Inbox) -> Void) {
            condition.lock()
            change(self)
            condition.broadcast()
            condition.unlock()
        }

        func waitForHandshake(timeout: TimeInterval) throws {
            let deadline = Date().addingTimeInterval(timeout)
            condition.lock()
            defer { condition.unlock() }
            while handshake == nil, !closed, condition.wait(until: deadline) {}
            switch handshake {
            case .success: return
            case .failure(let error): throw error
            case nil: throw POSIXError(closed ? .ECONNRESET : .ETIMEDOUT)
            }
        }

        /// One message: a head up to the blank line and Content-Length bytes of body (CRLF keep-alives skipped).
        func nextMessage(timeout: TimeInterval) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            condition.lock()
            defer { condition.unlock() }
            while true {
                while bytes.starts(with: [13, 10]) { bytes.removeFirst(2) }
                if let end = Self.headEnd(bytes) {
                    let head = String(decoding: bytes[..<end], as: UTF8.self)
                    let length = TestSIPClient.header("Content-Length", in: head + "\r\n").flatMap { Int($0) } ?? 0
                    if bytes.count >= end + 4 + length {
                        let message = String(decoding: bytes[..<(end + 4 + length)], as: UTF8.self)
                        bytes.removeFirst(end + 4 + length)
                        return message
                    }
                }
                if closed || !condition.wait(until: deadline) { return nil }
            }
        }

        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
        }
    }

    /// The plaintext side of the TLS connection: fills the inbox.
    private final class InboxHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox

        init(inbox: Inbox) { self.inbox = inbox }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            inbox.update { $0.bytes += bytes }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { inbox.update { $0.handshake = .success(()) } }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            inbox.update { if $0.handshake == nil { $0.handshake = .failure(error) } }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            inbox.update { $0.closed = true }
            context.fireChannelInactive()
        }
    }
}
