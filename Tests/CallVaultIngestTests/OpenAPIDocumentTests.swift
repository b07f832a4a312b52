import CallVaultTestSupport
import Foundation
import Testing

/// `GET /openapi.json` serves docs/openapi.json byte for byte (scripts/openapi embeds it), and the
/// document names every route the control API answers.
@Suite("OpenAPI document", .timeLimit(.minutes(15)))
struct OpenAPIDocumentTests {
    static let path = Repository.root + "/docs/openapi.json"

    @Test func theServedDocumentIsDocsOpenAPIJSON() async throws {
        let file = try Data(contentsOf: URL(fileURLWithPath: Self.path))
        let running = try await RunningServer.start()
        let response = try #require(TestSocketClient(port: running.port).request("GET", "/openapi.json"))
        #expect(response.status == 200 && response.headers["content-type"] == "application/json")
        // Compared as bytes (the client reads the body as UTF-8 text: the document is UTF-8).
        #expect(
            Array(response.body.utf8) == Array(file),
            "the served document differs from docs/openapi.json: run scripts/openapi after editing it")
        let head = try #require(TestSocketClient(port: running.port).request("POST", "/openapi.json"))
        #expect(head.status == 405 && head.headers["allow"] == "GET")
        try await running.stop()
    }

    @Test func theDocumentIsOpenAPI31AndNamesEveryRoute() throws {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.path))) as? [String: Any])
        #expect(object["openapi"] as? String == "3.1.0")
        let paths = try #require(object["paths"] as? [String: [String: Any]])
        let routes = Set(paths.flatMap { path, item in item.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(
            routes == [
                "POST /v1/calls", "POST /v1/calls/{callId}/events", "POST /v1/calls/{callId}/utterances", "GET /v1/twilio", "GET /v1/stream", "GET /healthz",
                "GET /metrics", "GET /openapi.json",
            ])
        // Every event type the model declares (`static let x: WebhookEventType = "area.verb"`) is documented.
        let webhooks = try #require(object["webhooks"] as? [String: Any])
        let source = try String(
            contentsOfFile: Repository.root + "/Sources/CallVaultModel/WebhookEventType.swift", encoding: .utf8)
        let declared = Set(
            source.split(separator: "\n").compactMap { line -> String? in
                guard line.contains(": WebhookEventType = \""), let value = line.split(separator: "\"").dropFirst().first
                else { return nil }
                return String(value)
            })
        #expect(declared.count >= 17 && Set(webhooks.keys) == declared)
    }
}
