import CallVaultStore
import CallVaultTestSupport
import Foundation
import GRDB
import Testing

/// A real `callvault serve` sends a real call's events to a real local receiver: signed (checked by PyPI's
/// standardwebhooks, an independent implementation), in the call's order, retried after the receiver's
/// 500, with ids and metadata only.
@Suite("Webhooks end to end", .serialized, .timeLimit(.minutes(15)))
struct WebhookEndToEndTests {
    @Test func aTwilioCallsEventsReachTheReceiverSignedInOrderAfterARetryWithoutThePhoneNumber() throws {
        let receiver = try LocalHTTPServer { index, _ in
            index == 0
                ? .respond(status: 500, headers: [:], body: Data("busy".utf8))
                : .respond(status: 204, headers: [:], body: Data())
        }
        defer { receiver.stop() }
        let root = try TemporaryDirectory.make("webhook-e2e")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        #expect(try ServeEndToEndTests.cli(["init"], data: data).status == 0)
        let added = try ServeEndToEndTests.cli(
            [
                "tenant", "add", "acme", "--consent-digit", "1", "--webhook-url",
                receiver.url.absoluteString + "/hooks",
                "--webhook-allow-private", "--json",
            ],
            data: data
        )
        #expect(added.status == 0, "\(added.stdout)")
        let tenant = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])
        let token = try #require(tenant["token"] as? String)
        let secret = try #require(tenant["webhookSecret"] as? String)
        #expect(secret.hasPrefix("whsec_") && tenant["webhookUrl"] as? String == receiver.url.absoluteString + "/hooks")

        let server = try ServeProcess(data: data, extra: ["--webhook-retry-base-ms", "100", "--webhook-poll-ms", "50"])
        defer { server.terminate() }
        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8))
        ws.sendFrame(
            opcode: 1,
            Array(
                #"{"event":"start","sequenceNumber":"2","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA-WH1","tracks":["inbound","outbound"],"customParameters":{"from":"+4930123456789"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#
                    .utf8
            )
        )
        for frame in 0..<150 {
            if frame == 50 {
                ws.sendFrame(
                    opcode: 1,
                    Array(
                        #"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"200","dtmf":{"track":"inbound_track","digit":"1"}}"#
                            .utf8
                    )
                )
            }
            ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55))
            ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x66))
        }
        ws.sendFrame(
            opcode: 1,
            Array(
                #"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"CA-WH1"},"streamSid":"MZ1"}"#
                    .utf8
            )
        )
        let close = try #require(ws.readFrame())
        #expect(close.opcode == 8)

        // call.started, consent.granted, two recording.completed, call.ended: all acknowledged.
        let expected = 5
        let arrived = poll(timeout: .seconds(60), interval: .milliseconds(100)) {
            Set(receiver.requests.compactMap { $0.headers["webhook-id"] }).count >= expected
        }
        #expect(arrived, "\(receiver.requests.map { String(decoding: $0.body, as: UTF8.self) })")
        func outboxRows() throws -> [[String: Any]] {
            let listed = try ServeEndToEndTests.cli(["webhooks", "list", "--json"], data: data)
            let outbox = try #require(
                try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
            )
            return try #require(outbox["webhooks"] as? [[String: Any]])
        }
        #expect(
            try poll(timeout: .seconds(30), interval: .milliseconds(100)) {
                try outboxRows().allSatisfy { $0["state"] as? String == "delivered" }
            }
        )
        let metrics = try #require(TestSocketClient(port: server.port).http("GET", "/metrics")).body
        #expect(metrics.contains(#"callvault_webhook_deliveries_total{outcome="delivered"} 5"#), "\(metrics)")
        #expect(metrics.contains(#"callvault_webhook_deliveries_total{outcome="retried"} 1"#))
        #expect(try server.stop() == 0)

        let rows = try outboxRows().sorted { ($0["sequence"] as? Int ?? 0) < ($1["sequence"] as? Int ?? 0) }
        let types = rows.compactMap { $0["type"] as? String }
        #expect(types.first == "call.started" && types.last == "call.ended", "\(types)")
        #expect(
            types.sorted() == [
                "call.ended", "call.started", "consent.granted", "recording.completed", "recording.completed",
            ]
        )
        #expect(rows.allSatisfy { $0["state"] as? String == "delivered" })
        #expect(rows.first?["attempts"] as? Int == 2, "the first event was retried after the 500")
        // Received in the outbox's order (one call: each waits for the one before).
        var firstArrivals: [String] = []
        for id in receiver.requests.compactMap({ $0.headers["webhook-id"] }) where !firstArrivals.contains(id) {
            firstArrivals.append(id)
        }
        #expect(firstArrivals == rows.compactMap { $0["id"] as? String })
        for request in receiver.requests {
            let body = String(decoding: request.body, as: UTF8.self)
            #expect(!body.contains("30123456789") && !body.contains("+49"), "\(body)")
        }
        guard let lines = try StandardWebhooksVerifier.verify(receiver.requests, secret: secret) else {
            let message = StandardWebhooksVerifier.reportMissing("webhook signatures end to end")
            if Services.required { Issue.record(Comment(rawValue: message)) }
            return
        }
        #expect(lines.count == receiver.requests.count && lines.allSatisfy { $0.hasPrefix("ok ") }, "\(lines)")
    }

    /// The outbox is durable: a server stopped while an event waits out its backoff sends it after a restart,
    /// under the same `webhook-id`.
    @Test func anEventWaitingOutItsBackoffIsSentAfterARestart() throws {
        let receiverUp = ManagedFlag()
        let receiver = try LocalHTTPServer { _, _ in
            receiverUp.value
                ? .respond(status: 200, headers: [:], body: Data()) : .respond(status: 503, headers: [:], body: Data())
        }
        defer { receiver.stop() }
        let root = try TemporaryDirectory.make("webhook-restart")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        #expect(try ServeEndToEndTests.cli(["init"], data: data).status == 0)
        let added = try ServeEndToEndTests.cli(
            [
                "tenant", "add", "acme", "--webhook-url", receiver.url.absoluteString, "--webhook-allow-private",
                "--json",
            ],
            data: data
        )
        let token =
            try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])["token"]
            as? String
        let slow = ["--webhook-retry-base-ms", "60000", "--webhook-poll-ms", "50"]
        let first = try ServeProcess(data: data, extra: slow)
        defer { first.terminate() }
        let registered = try #require(
            TestSocketClient(port: first.port).http(
                "POST",
                "/v1/calls",
                headers: ["Authorization": "Bearer \(token ?? "")"],
                body: #"{"callId":"CA-R1"}"#
            )
        )
        #expect(registered.status == 201, "\(registered.body)")
        #expect(poll(timeout: .seconds(30)) { receiver.requests.count == 1 }, "the first attempt was made and refused")
        #expect(try first.stop() == 0)
        #expect(receiver.requests.count == 1, "a minute of backoff: no second attempt before the stop")

        receiverUp.value = true
        // Still pending after the stop, with its attempt counted; made due (as if its minute had passed).
        let pending = try ServeEndToEndTests.cli(["webhooks", "list", "--state", "pending", "--json"], data: data)
        let rows =
            try #require(try JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [String: Any])[
                "webhooks"
            ] as? [[String: Any]]
        #expect(rows?.count == 1 && rows?.first?["attempts"] as? Int == 1, "\(pending.stdout)")
        let id = try #require(rows?.first?["id"] as? String)
        try Self.makeDue(data: data, id: id)
        let second = try ServeProcess(data: data, extra: slow)
        defer { second.terminate() }
        #expect(poll(timeout: .seconds(30)) { receiver.requests.count == 2 })
        // Stopped at once: the send in flight finishes and is recorded before the server exits.
        #expect(try second.stop() == 0)
        #expect(receiver.requests.map { $0.headers["webhook-id"] } == [id, id])
        let delivered = try ServeEndToEndTests.cli(["webhooks", "list", "--state", "delivered", "--json"], data: data)
        #expect(delivered.stdout.contains(id))
    }

    /// Moves a pending row's next attempt to now in the catalog file (the test's stand-in for a minute passing).
    static func makeDue(data: String, id: String) throws {
        let database = try DatabaseQueue(path: DataDirectory(path: data).catalogPath)
        try database.write { db in
            try db.execute(
                sql: "UPDATE webhook_outbox SET next_attempt_at = '2000-01-01 00:00:00.000' WHERE id = ?",
                arguments: [id]
            )
        }
    }
}

/// A flag the receiver's handler reads and the test sets.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
