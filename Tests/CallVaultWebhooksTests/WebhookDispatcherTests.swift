import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultWebhooks

/// The dispatcher against a real local HTTP receiver, on a real data directory (catalog and key store):
/// signatures checked by PyPI's standardwebhooks, retries after 500s and a timeout, the dead letter after
/// a short give-up time, the SSRF guard, and a rotated secret signing beside the new one.
@Suite("Webhook dispatcher", .serialized, .timeLimit(.minutes(15)))
struct WebhookDispatcherTests {
    /// A data directory with tenant `acme` whose endpoint is `url`; returns the shown secret.
    static func site(url: String, allowPrivate: Bool = true) async throws -> (TestDataDirectory, Tenant, String) {
        let site = try TestDataDirectory("webhooks")
        let (tenant, _) = try site.addTenant("acme")
        let (wrapped, shown) = try site.keyStore.newWebhookSecret(tenantID: tenant.id)
        try await site.catalog.webhooks.setEndpoint(
            WebhookEndpoint(
                tenantId: tenant.id,
                url: url,
                allowPrivate: allowPrivate,
                secret: wrapped,
                updatedAt: Date()
            ),
            actor: "test",
            at: Date()
        )
        return (site, tenant, shown)
    }

    static func dispatcher(
        _ site: TestDataDirectory,
        retry: WebhookRetryPolicy = WebhookRetryPolicy(),
        timeout: Duration = .seconds(5),
        trust: String? = nil
    ) throws -> WebhookDispatcher {
        var configuration = WebhookDispatcher.Configuration(node: "node-test")
        configuration.retry = retry
        configuration.requestTimeout = timeout
        configuration.additionalTrustRootsFile = trust
        return try WebhookDispatcher(
            store: site.catalog.webhooks,
            keyStore: site.keyStore,
            configuration: configuration,
            logger: Logger(label: "test")
        )
    }

    /// Runs `body` with a dispatcher on `site`, shutting it down after (its HTTP client must be).
    static func withDispatcher(
        _ site: TestDataDirectory,
        retry: WebhookRetryPolicy = WebhookRetryPolicy(),
        timeout: Duration = .seconds(5),
        trust: String? = nil,
        _ body: (WebhookDispatcher) async throws -> Void
    ) async throws {
        let dispatcher = try Self.dispatcher(site, retry: retry, timeout: timeout, trust: trust)
        do { try await body(dispatcher) } catch {
            await dispatcher.shutdown()
            throw error
        }
        await dispatcher.shutdown()
    }

    /// Runs passes until `done` holds or 4 minutes pass. Alone a test takes a second or two; in the full
    /// suite, synchronous tests that wait in loops hold the cooperative pool's two threads, and a pass then
    /// resumes minutes late (twice a pass stalled ~4 minutes behind its hung request's timeout).
    static func drive(_ dispatcher: WebhookDispatcher, until done: () async throws -> Bool) async throws -> Bool {
        try await eventually(timeout: .seconds(240), interval: .milliseconds(50)) {
            await dispatcher.pass()
            return try await done()
        }
    }

    static func verified(_ requests: [LocalHTTPServer.Request], secret: String) throws -> [String]? {
        guard let lines = try StandardWebhooksVerifier.verify(requests, secret: secret) else {
            if Services.required {
                Issue.record(Comment(rawValue: StandardWebhooksVerifier.reportMissing("webhook signatures")))
            } else {
                _ = StandardWebhooksVerifier.reportMissing("webhook signatures")
            }
            return nil
        }
        return lines
    }

    @Test func eventsAreSignedVerifiablyAndRetriedAfter500sAndATimeoutUntilAcknowledged() async throws {
        // 500, then no answer (timeout), then 204.
        let receiver = try LocalHTTPServer { index, _ in
            switch index {
            case 0: .respond(status: 500, headers: [:], body: Data("down".utf8))
            case 1: .hang
            default: .respond(status: 204, headers: [:], body: Data())
            }
        }
        defer { receiver.stop() }
        let (site, tenant, secret) = try await Self.site(url: receiver.url.absoluteString + "/hooks")
        defer { site.temporary.remove() }
        _ = try site.catalog.registerCall(tenantID: tenant.id, externalID: "CA-1")
        var delivered = false
        try await Self.withDispatcher(
            site,
            retry: WebhookRetryPolicy(baseDelay: .milliseconds(50), maximumDelay: .milliseconds(200)),
            timeout: .seconds(1)
        ) { dispatcher in
            delivered = try await Self.drive(dispatcher) {
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .delivered, limit: 10).count == 1
            }
        }
        let rows = try await site.catalog.webhooks.deliveries(tenantID: nil, state: nil, limit: 10)
        #expect(delivered, "\(rows)")
        let requests = receiver.requests
        #expect(requests.count == 3)
        // The same message id on every attempt (receivers deduplicate by it), each signed afresh.
        #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 1)
        #expect(
            requests.allSatisfy {
                $0.requestLine.hasPrefix("POST /hooks ") && $0.headers["content-type"] == "application/json"
            }
        )
        let row = try #require(try await site.catalog.webhooks.deliveries(tenantID: nil, state: nil, limit: 1).first)
        #expect(row.attempts == 3 && row.lastError == nil && row.type == .callStarted)
        if let lines = try Self.verified(requests, secret: secret) {
            #expect(lines == ["ok call.started", "ok call.started", "ok call.started"], "\(lines)")
        }
        // A wrong secret is refused by the same library: the check is real.
        if let wrong = try Self.verified(
            requests,
            secret: "whsec_" + Data(repeating: 1, count: 32).base64EncodedString()
        ) {
            #expect(wrong.allSatisfy { $0.hasPrefix("refused") }, "\(wrong)")
        }
    }

    @Test func aDeliveryThatKeepsFailingIsDeadLetteredAfterTheGiveUpTimeAndCanBeRedelivered() async throws {
        let failing = ManagedCounter()
        let receiver = try LocalHTTPServer { _, _ in
            failing.value < 1_000_000
                ? .respond(status: 503, headers: [:], body: Data()) : .respond(status: 200, headers: [:], body: Data())
        }
        defer { receiver.stop() }
        let (site, tenant, _) = try await Self.site(url: receiver.url.absoluteString)
        defer { site.temporary.remove() }
        _ = try site.catalog.registerCall(tenantID: tenant.id, externalID: "CA-1")
        try await Self.withDispatcher(
            site,
            retry: WebhookRetryPolicy(
                baseDelay: .milliseconds(20),
                maximumDelay: .milliseconds(100),
                giveUpAfter: .milliseconds(700)
            )
        ) { dispatcher in
            let dead = try await Self.drive(dispatcher) {
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .dead, limit: 10).count == 1
            }
            #expect(dead)
            let row = try #require(
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .dead, limit: 1).first
            )
            // Dead with the receiver's answer as its last error. How many attempts fit in the give-up time
            // depends on the machine's load (in a loaded full run the first came after it: one attempt);
            // retrying itself is the test above.
            #expect(row.attempts >= 1 && row.lastError == "status: the receiver answered 503", "\(row)")
            #expect(receiver.requests.count == row.attempts)
            // Fixed receiver, redelivered by hand: delivered under the same id.
            failing.value = 2_000_000
            _ = try await site.catalog.webhooks.redeliver(id: row.id)
            let redelivered = try await Self.drive(dispatcher) {
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .delivered, limit: 10).count == 1
            }
            #expect(redelivered)
            #expect(receiver.requests.last?.headers["webhook-id"] == row.id)
        }
    }

    @Test func theSSRFGuardRefusesALoopbackTargetThatIsNotAllowedAndSendsNothing() async throws {
        let receiver = try LocalHTTPServer { _, _ in .respond(status: 200, headers: [:], body: Data()) }
        defer { receiver.stop() }
        // https (so the URL's form is accepted) to a loopback address, private targets not allowed.
        let (site, tenant, _) = try await Self.site(
            url: "https://127.0.0.1:\(receiver.port)/hooks",
            allowPrivate: false
        )
        defer { site.temporary.remove() }
        _ = try site.catalog.registerCall(tenantID: tenant.id, externalID: "CA-1")
        try await Self.withDispatcher(site) { dispatcher in
            let dead = try await Self.drive(dispatcher) {
                try await site.catalog.webhooks.deliveries(tenantID: nil, state: .dead, limit: 10).count == 1
            }
            #expect(dead)
        }
        let row = try #require(try await site.catalog.webhooks.deliveries(tenantID: nil, state: nil, limit: 1).first)
        #expect(row.lastError?.contains("SSRF guard") == true && row.lastError?.contains("127.0.0.1") == true, "\(row)")
        #expect(receiver.requests.isEmpty)
        for address in [
            "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
        ] {
            let bytes = address.split(separator: ".").map { UInt8($0)! }
            #expect(WebhookURLCheck.isPrivate(bytes), "\(address)")
        }
        #expect(!WebhookURLCheck.isPrivate([93, 184, 216, 34]) && !WebhookURLCheck.isPrivate([8, 8, 8, 8]))
        #expect(WebhookURLCheck.isPrivate(Array(repeating: 0, count: 15) + [1]), "::1")
        #expect(WebhookURLCheck.isPrivate([0xfe, 0x80] + Array(repeating: 0, count: 14)), "fe80::")
        #expect(
            WebhookURLCheck.isPrivate(Array(repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1]),
            "::ffff:127.0.0.1"
        )
        #expect(throws: CatalogError.self) {
            try WebhookURLCheck.checkSyntax("http://hooks.example.com/", allowPrivate: false)
        }
        #expect(throws: CatalogError.self) {
            try WebhookURLCheck.checkSyntax("https://user:pw@hooks.example.com/", allowPrivate: false)
        }
        try WebhookURLCheck.checkSyntax("http://127.0.0.1:9/", allowPrivate: true)
    }

    @Test func aRotatedSecretSignsBesideTheNewOneDuringItsOverlap() async throws {
        let receiver = try LocalHTTPServer { _, _ in .respond(status: 200, headers: [:], body: Data()) }
        defer { receiver.stop() }
        let (site, tenant, oldSecret) = try await Self.site(url: receiver.url.absoluteString)
        defer { site.temporary.remove() }
        var endpoint = try #require(try await site.catalog.webhooks.endpoint(tenantID: tenant.id))
        let (fresh, newSecret) = try site.keyStore.newWebhookSecret(tenantID: tenant.id)
        #expect(newSecret != oldSecret && newSecret.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(newSecret.dropFirst(6)))?.count == 32)
        endpoint.previousSecret = endpoint.secret
        endpoint.previousUntil = Date().addingTimeInterval(3600)
        endpoint.secret = fresh
        try await site.catalog.webhooks.setEndpoint(endpoint, actor: "test", at: Date())
        _ = try site.catalog.registerCall(tenantID: tenant.id, externalID: "CA-1")
        try await Self.withDispatcher(site) { dispatcher in
            let sent = try await Self.drive(dispatcher) { receiver.requests.count == 1 }
            #expect(sent)
        }
        let signature = try #require(receiver.requests.first?.headers["webhook-signature"])
        #expect(
            signature.split(separator: " ").count == 2
                && signature.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") }
        )
        for secret in [oldSecret, newSecret] {
            if let lines = try Self.verified(receiver.requests, secret: secret) {
                #expect(lines == ["ok call.started"], "\(lines)")
            }
        }
        // Our own signer agrees with the library on a known message.
        let key = try WebhookSigner.secret(fromShown: newSecret)
        let request = try #require(receiver.requests.first)
        let id = try #require(request.headers["webhook-id"])
        let timestamp = try #require(Int64(request.headers["webhook-timestamp"] ?? ""))
        let mine = WebhookSigner.signature(id: id, timestamp: timestamp, body: Array(request.body), secrets: [key])
        #expect(signature.split(separator: " ").contains(Substring(mine)))
    }
}

/// A number the receiver's handler reads and the test changes.
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
