import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import CallVaultIngest

/// A media session that keeps what it was given, to check the transport layer delivers messages
/// whole, in order, unmasked, and ends each stream exactly once.
final class CollectingSession: MediaSession, @unchecked Sendable {
    let endpoint: MediaEndpoint
    let tenantID: String?
    let log: SessionLog

    init(endpoint: MediaEndpoint, tenantID: String?, log: SessionLog) {
        self.endpoint = endpoint
        self.tenantID = tenantID
        self.log = log
        log.events.withLock { $0.append("open \(endpoint.rawValue) tenant=\(tenantID ?? "none")") }
    }

    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        let text = String(decoding: bytes, as: UTF8.self)
        log.events.withLock { $0.append("text \(text)") }
        return text == "bad" ? .invalid("bad message") : nil
    }

    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        log.events.withLock { $0.append("binary \(bytes.count) first=\(bytes.first ?? 0)") }
        return nil
    }

    func end(_ reason: MediaClose) {
        log.events.withLock { $0.append("end \(reason.code)") }
    }
}

final class SessionLog: Sendable {
    let events = Mutex<[String]>([])
    var all: [String] { events.withLock { $0 } }

    /// Waits up to 10 s for an event with this prefix.
    func wait(for prefix: String) async -> Bool {
        await eventually(timeout: .seconds(10)) { all.contains(where: { $0.hasPrefix(prefix) }) }
    }
}

/// A running server on 127.0.0.1 (port chosen by the OS) over a real catalog in /tmp.
struct RunningServer {
    let data: TestDataDirectory
    var catalog: Catalog { data.catalog }
    let server: IngestServer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int
    let log: SessionLog
    let tokenA: String
    let tokenB: String
    let tenantA: String

    static func start() async throws -> RunningServer {
        let data = try TestDataDirectory("ingest-test")
        let (keyStore, catalog) = (data.keyStore, data.catalog)
        let a = try data.addTenant("a")
        let b = try data.addTenant("b")
        let log = SessionLog()
        let logger = Logger(label: "test")
        let api = ControlAPI(
            catalog: catalog, liveCalls: LiveCallRegistry(), logger: logger,
            callerKeys: { try keyStore.callerKeys(tenantID: $0) }, metricsText: { "callvault_up 1\n" })
        let server = IngestServer(
            configuration: .init(host: "127.0.0.1", port: 0, maximumMessageBytes: 4096), api: api, logger: logger
        ) { endpoint, tenant, _, _ in
            CollectingSession(endpoint: endpoint, tenantID: tenant?.id, log: log)
        }
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        let port = try await server.localAddress().port ?? 0
        return RunningServer(
            data: data, server: server, group: group, task: task, port: port, log: log,
            tokenA: a.token, tokenB: b.token, tenantA: a.tenant.id)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        data.temporary.remove()
    }
}

@Suite("Ingest server over a real socket", .timeLimit(.minutes(15)))
struct IngestServerTests {
    @Test func healthMetricsAndUnknownRoutes() async throws {
        let running = try await RunningServer.start()
        let client = try TestSocketClient(port: running.port)
        let health = try #require(client.http("GET", "/healthz"))
        #expect(health.status == 200 && health.body.contains("\"status\":\"ok\""))
        let metrics = try #require(client.http("GET", "/metrics"))
        #expect(metrics.status == 200 && metrics.body == "callvault_up 1\n")
        let missing = try #require(client.http("GET", "/nope"))
        #expect(missing.status == 404 && missing.body.contains("no such endpoint"))
        let wrongMethod = try #require(client.http("DELETE", "/v1/calls"))
        #expect(wrongMethod.status == 405)
        try await running.stop()
    }

    @Test func callsAndEventsAreScopedToTheTenantOfTheToken() async throws {
        let running = try await RunningServer.start()
        let client = try TestSocketClient(port: running.port)
        let anonymous = try #require(client.http("POST", "/v1/calls", body: #"{"callId":"CA1"}"#))
        #expect(anonymous.status == 401)
        let a = ["Authorization": "Bearer \(running.tokenA)"]
        let b = ["Authorization": "Bearer \(running.tokenB)"]
        let created = try #require(client.http("POST", "/v1/calls", headers: a, body: #"{"callId":"CA1","from":"+15550100"}"#))
        #expect(created.status == 201, "\(created.body)")
        #expect(!created.body.contains("5550100"))
        let again = try #require(client.http("POST", "/v1/calls", headers: a, body: #"{"callId":"CA1"}"#))
        #expect(again.status == 200 && again.body.contains("\"created\":false"))
        let badBody = try #require(client.http("POST", "/v1/calls", headers: a, body: #"{"callId":7}"#))
        #expect(badBody.status == 400 && badBody.body.contains("callId"))
        let notJSON = try #require(client.http("POST", "/v1/calls", headers: a, body: "callId=CA1"))
        #expect(notJSON.status == 400 && notJSON.body.contains("JSON object"))

        let event = try #require(
            client.http("POST", "/v1/calls/CA1/events", headers: a, body: #"{"type":"disclosure","method":"api"}"#))
        #expect(event.status == 201, "\(event.body)")
        let badType = try #require(client.http("POST", "/v1/calls/CA1/events", headers: a, body: #"{"type":"agree"}"#))
        #expect(badType.status == 400 && badType.body.contains("type must be one of"))
        // Tenant B cannot see or touch tenant A's call, and learns nothing about it.
        let foreign = try #require(client.http("POST", "/v1/calls/CA1/events", headers: b, body: #"{"type":"revoke"}"#))
        #expect(foreign.status == 404)

        let call = try #require(try running.catalog.call(tenantID: running.tenantA, externalID: "CA1"))
        #expect(try running.catalog.consentEvents(callID: call.id).map(\.kind) == [.disclosure])
        try await running.stop()
    }

    @Test func mediaWebSocketDeliversWholeUnmaskedMessagesAndClosesOnBadInput() async throws {
        let running = try await RunningServer.start()
        let client = try TestSocketClient(port: running.port)
        #expect(client.upgrade("/v1/stream?token=\(running.tokenA)") == 101)
        #expect(await running.log.wait(for: "open /v1/stream tenant=\(running.tenantA)"))
        client.sendFrame(opcode: 1, Array(#"{"callId":"CA9"}"#.utf8))
        client.sendFrame(opcode: 2, [UInt8](repeating: 0xAB, count: 320))
        // A fragmented text message arrives whole.
        client.sendFrame(opcode: 1, Array("hel".utf8), fin: false)
        client.sendFrame(opcode: 0, Array("lo".utf8), fin: true)
        client.sendFrame(opcode: 9, Array("ping".utf8))
        let pong = try #require(client.readFrame())
        #expect(pong.opcode == 0xA && pong.payload == Array("ping".utf8))
        client.sendFrame(opcode: 1, Array("bad".utf8))
        let close = try #require(client.readFrame())
        #expect(close.opcode == 8)
        #expect(TestSocketClient.closeCode(close.payload) == (1007, "bad message"))
        #expect(await running.log.wait(for: "end 1007"))
        let events = running.log.all
        #expect(events.contains(#"text {"callId":"CA9"}"#))
        #expect(events.contains("binary 320 first=171"))
        #expect(events.contains("text hello"))
        #expect(events.filter { $0.hasPrefix("end") }.count == 1)
        try await running.stop()
    }

    @Test func refusedTokensOversizedMessagesAndPlainGetsOnMediaPaths() async throws {
        let running = try await RunningServer.start()
        let refused = try TestSocketClient(port: running.port)
        #expect(refused.upgrade("/v1/twilio", headers: ["Authorization": "Bearer cvt_not-a-token"]) == 401)
        let plain = try TestSocketClient(port: running.port)
        let get = try #require(plain.http("GET", "/v1/twilio"))
        #expect(get.status == 400 && get.body.contains("WebSocket endpoint"))

        let big = try TestSocketClient(port: running.port)
        #expect(big.upgrade("/v1/twilio") == 101)
        #expect(await running.log.wait(for: "open /v1/twilio tenant=none"))
        big.sendFrame(opcode: 2, [UInt8](repeating: 1, count: 10_000))
        let close = try #require(big.readFrame())
        #expect(close.opcode == 8)
        #expect(TestSocketClient.closeCode(close.payload) == (1009, "message larger than the 4096-byte limit"))
        #expect(big.readFrame() == nil, "one close frame, then the connection is closed")
        #expect(await running.log.wait(for: "end 1009"))
        // The server still serves others.
        let other = try TestSocketClient(port: running.port)
        #expect(other.http("GET", "/healthz")?.status == 200)
        try await running.stop()
    }

    @Test func gracefulShutdownEndsOpenStreamsWithGoingAway() async throws {
        let running = try await RunningServer.start()
        let client = try TestSocketClient(port: running.port)
        #expect(client.upgrade("/v1/stream?token=\(running.tokenA)") == 101)
        #expect(await running.log.wait(for: "open"))
        try await running.stop()
        #expect(running.log.all.contains("end 1001"))
        let close = try #require(client.readFrame())
        #expect(close.opcode == 8 && TestSocketClient.closeCode(close.payload).code == 1001)
    }

    @Test func aRestartedServerBindsTheSamePortAtOnce() async throws {
        let first = try await RunningServer.start()
        let port = first.port
        let client = try TestSocketClient(port: port)
        #expect(client.http("GET", "/healthz")?.status == 200)
        try await first.stop()
        let temporary = try TemporaryDirectory("ingest-restart")
        defer { temporary.remove() }
        let catalog = try Catalog(path: temporary.appending("catalog.sqlite"))
        let api = ControlAPI(catalog: catalog, liveCalls: LiveCallRegistry(), logger: Logger(label: "test"))
        let second = IngestServer(
            configuration: .init(host: "127.0.0.1", port: port), api: api, logger: Logger(label: "test")
        ) { endpoint, _, _, _ in CollectingSession(endpoint: endpoint, tenantID: nil, log: SessionLog()) }
        let group = ServiceGroup(services: [second], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let task = Task { try await group.run() }
        #expect(try await second.localAddress().port == port)
        #expect(try TestSocketClient(port: port).http("GET", "/healthz")?.status == 200)
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
