import CallVaultTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

/// `callvault simulate` against servers that fail it: every call must end, counted as an error, and the
/// command must exit — a load client that waits for ever on a call whose connection is gone stalls every
/// load run past a server's limit (it did: under heavy load a close arrived with the upgrade's answer).
@Suite("callvault simulate when the server fails it", .serialized, .timeLimit(.minutes(15)))
struct SimulateFailureTests {
    /// A server that completes the WebSocket upgrade and closes the connection at once (101, then FIN).
    static func closingServer() throws -> any Channel {
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.close() })
        return try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func simulate(port: Int, calls: Int) throws -> (status: Int32, stdout: String) {
        let file = Repository.samples + "/caller.flac"
        return try ServeEndToEndTests.cli(
            ["simulate", "--url", "ws://127.0.0.1:\(port)/v1/twilio", "--token", "cvt_unused", "--file", file,
             "--calls", "\(calls)", "--json"], data: nil)
    }

    @Test func everyCallEndsWhenTheServerClosesRightAfterTheUpgrade() throws {
        let server = try Self.closingServer()
        defer { try? server.close().wait() }
        let result = try simulate(port: server.localAddress!.port!, calls: 20)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("\"errors\" : \"20\""), "\(result.stdout)")
    }

    @Test func everyCallEndsWhenNothingListens() throws {
        // A port just bound and released: nothing listens there.
        let probe = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = probe.localAddress!.port!
        try probe.close().wait()
        let result = try simulate(port: port, calls: 5)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("\"errors\" : \"5\""), "\(result.stdout)")
    }
}
