import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Webhooks on a PostgreSQL catalog: two `serve` nodes send the same outbox and each event reaches the
/// receiver once (claims are `FOR UPDATE SKIP LOCKED` with a lease), whichever node queued it; and an event
/// row commits with its change or neither does (`kill -9` between them).
@Suite(
    "Webhooks on PostgreSQL",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .serialized,
    .timeLimit(.minutes(15))
)
struct WebhookMultiNodeTests {
    @Test func twoNodesSendEveryEventOnceBetweenThem() throws {
        let receiver = try LocalHTTPServer { _, _ in .respond(status: 200, headers: [:], body: Data()) }
        defer { receiver.stop() }
        let server = try PostgresServer.shared()
        let database = try server.createDatabase()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let root = try TemporaryDirectory.make("webhook-nodes")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let initialised = try ServeEndToEndTests.cli(
            ["init", "--database", server.settings(database: database).url],
            data: data
        )
        #expect(initialised.status == 0, "\(initialised.stdout)")
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
        let options = ["--webhook-poll-ms", "20"]
        let first = try ServeProcess(data: data, extra: options)
        defer { first.terminate() }
        let second = try ServeProcess(data: data, extra: options)
        defer { second.terminate() }

        let calls = 30
        for index in 0..<calls {
            let port = index % 2 == 0 ? first.port : second.port
            let answer = try #require(
                TestSocketClient(port: port).http(
                    "POST",
                    "/v1/calls",
                    headers: ["Authorization": "Bearer \(token ?? "")"],
                    body: #"{"callId":"CA-N\#(index)"}"#
                )
            )
            #expect(answer.status == 201, "\(answer.body)")
        }
        let sent = poll(timeout: .seconds(60), interval: .milliseconds(100)) {
            Set(receiver.requests.compactMap { $0.headers["webhook-id"] }).count >= calls
        }
        #expect(sent, "\(receiver.requests.count) requests")
        // Both nodes idle a moment longer: nothing is sent twice.
        Thread.sleep(forTimeInterval: 1)
        #expect(try first.stop() == 0)
        #expect(try second.stop() == 0)
        let ids = receiver.requests.compactMap { $0.headers["webhook-id"] }
        #expect(ids.count == calls && Set(ids).count == calls, "\(ids.count) requests for \(Set(ids).count) events")
        let delivered = try server.psql(
            database: database,
            "SELECT count(*) FROM webhook_outbox WHERE state = 'delivered'"
        )
        #expect(delivered == String(calls))
    }

    @Test func aServeKilledBetweenTheOutboxRowAndItsCommitLeavesNeitherTheCallNorItsEvent() throws {
        let server = try PostgresServer.shared()
        let database = try server.createDatabase()
        defer { _ = try? server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let root = try TemporaryDirectory.make("webhook-pg-atomic")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        #expect(
            try ServeEndToEndTests.cli(["init", "--database", server.settings(database: database).url], data: data)
                .status == 0
        )
        let added = try ServeEndToEndTests.cli(
            ["tenant", "add", "acme", "--webhook-url", "http://127.0.0.1:9/h", "--webhook-allow-private", "--json"],
            data: data
        )
        let token =
            try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])["token"]
            as? String
        let doomed = try ServeProcess(
            data: data,
            environment: ["CALLVAULT_FAILPOINTS": Failpoint.webhookQueued.rawValue]
        )
        defer { doomed.terminate() }
        // No answer: the process dies inside the call's transaction.
        _ = (try? TestSocketClient(port: doomed.port, readTimeout: 2))?.http(
            "POST",
            "/v1/calls",
            headers: ["Authorization": "Bearer \(token ?? "")"],
            body: #"{"callId":"CA-K"}"#
        )
        let output = try doomed.child.waitForExit(timeout: .seconds(30))
        #expect(output.signalled && output.status == SIGKILL, "\(output.stderr.suffix(500))")
        #expect(
            try server.psql(database: database, "SELECT count(*) FROM calls") == "0",
            "the call rolled back with its event"
        )
        #expect(try server.psql(database: database, "SELECT count(*) FROM webhook_outbox") == "0")

        // Without the failpoint both commit.
        let alive = try ServeProcess(data: data)
        defer { alive.terminate() }
        let answer = try #require(
            TestSocketClient(port: alive.port).http(
                "POST",
                "/v1/calls",
                headers: ["Authorization": "Bearer \(token ?? "")"],
                body: #"{"callId":"CA-K"}"#
            )
        )
        #expect(answer.status == 201)
        #expect(try alive.stop() == 0)
        #expect(try server.psql(database: database, "SELECT count(*) FROM calls") == "1")
        #expect(
            try server.psql(database: database, "SELECT string_agg(type, ',') FROM webhook_outbox") == "call.started"
        )
    }
}
