import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultWebhooks

/// Delivery over HTTPS to a real TLS receiver (Python's `http.server` behind `ssl`, a certificate for
/// 127.0.0.1 made by `openssl`): verified against a CA file given to the dispatcher, and refused (retried,
/// never sent in the clear) without it.
@Suite("Webhook dispatcher over HTTPS", .serialized, .timeLimit(.minutes(15)))
struct WebhookHTTPSTests {
    static let receiverScript = #"""
        import http.server, json, ssl, sys
        cert, key, out = sys.argv[1:4]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with open(out, "a") as f:
                    f.write(json.dumps({"line": self.requestline, "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": body.decode()}) + "\n")
                self.send_response(204)
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    @Test func anHTTPSReceiverWithAPrivateCAIsVerifiedAgainstTheGivenCAFileAndRefusedWithoutIt() async throws {
        let directory = try TemporaryDirectory("webhook-https")
        defer { directory.remove() }
        let cert = directory.appending("cert.pem")
        let key = directory.appending("key.pem")
        let made = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", cert,
                "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ],
            timeout: .seconds(60)
        )
        #expect(made.status == 0, "\(made.stderr)")
        let script = directory.appending("receiver.py")
        try Data(Self.receiverScript.utf8).write(to: URL(fileURLWithPath: script))
        let received = directory.appending("received.jsonl")
        let receiver = try ChildProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, cert, key, received])
        defer { receiver.send(SIGTERM) }
        let portLine = try receiver.waitForLine("the receiver's port", timeout: .seconds(30)) { Int($0) != nil }
        let port = try #require(Int(portLine))

        let site = try TestDataDirectory("webhook-https")
        defer { site.temporary.remove() }
        let (tenant, _) = try site.addTenant("acme")
        let (wrapped, secret) = try site.keyStore.newWebhookSecret(tenantID: tenant.id)
        try await site.catalog.webhooks.setEndpoint(
            WebhookEndpoint(
                tenantId: tenant.id,
                url: "https://127.0.0.1:\(port)/hooks",
                allowPrivate: true,
                secret: wrapped,
                updatedAt: Date()
            ),
            actor: "test",
            at: Date()
        )
        _ = try site.catalog.registerCall(tenantID: tenant.id, externalID: "CA-1")

        // Without the CA: the certificate does not verify; the attempt fails and waits for a retry.
        let quick = WebhookRetryPolicy(baseDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        try await WebhookDispatcherTests.withDispatcher(site, retry: quick) { dispatcher in
            await dispatcher.pass()
        }
        let refused = try #require(
            try await site.catalog.webhooks.deliveries(tenantID: nil, state: nil, limit: 1).first
        )
        #expect(
            refused.state == .pending && refused.attempts == 1 && refused.lastError?.hasPrefix("transport") == true,
            "\(refused)"
        )
        #expect(!FileManager.default.fileExists(atPath: received), "nothing reached the receiver")

        // With it: delivered, signed.
        try await WebhookDispatcherTests.withDispatcher(site, retry: quick, trust: cert) { dispatcher in
            let delivered = try await WebhookDispatcherTests.drive(dispatcher) {
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .delivered, limit: 1).count == 1
            }
            #expect(delivered)
        }
        let lines = try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let request = LocalHTTPServer.Request(
            requestLine: object["line"] as? String ?? "",
            headers: object["headers"] as? [String: String] ?? [:],
            body: Data((object["body"] as? String ?? "").utf8)
        )
        #expect(request.requestLine.hasPrefix("POST /hooks"))
        if let verdicts = try WebhookDispatcherTests.verified([request], secret: secret) {
            #expect(verdicts == ["ok call.started"], "\(verdicts)")
        }
        // A CA file without a certificate is refused when the dispatcher is made.
        let empty = directory.appending("empty.pem")
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: empty))
        #expect(throws: WebhookError.self) { try WebhookDispatcherTests.dispatcher(site, trust: empty) }
    }
}
