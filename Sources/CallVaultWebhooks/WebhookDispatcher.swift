internal import AsyncHTTPClient
import CallVaultCrypto
import CallVaultModel
public import CallVaultStore
import Foundation
public import Logging
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOSSL
public import ServiceLifecycle

/// Sends the webhook outbox's due rows to the tenants' receivers, signed per Standard Webhooks: a
/// `serve` service, on an event loop group of its own (never an ingest loop).
///
/// Each pass claims up to a batch of due rows with a lease (``WebhookStore/claim(owner:limit:lease:)``:
/// the oldest first, never a call's event while an earlier one of it is pending), sends them at once, and
/// records each outcome: a 2xx marks the row delivered; anything else (status, timeout, refused
/// connection) schedules a retry with exponential backoff and jitter, until the policy's give-up time
/// (24 h by default) dead-letters it. A target the SSRF guard refuses is dead-lettered at once. A graceful
/// shutdown lets the sends in flight finish; a crash mid-send leaves the lease to run out and the row to be sent again under the same
/// `webhook-id`: delivery is at least once, and receivers deduplicate by that id.
public final class WebhookDispatcher: Service, Sendable {
    let store: any WebhookStore
    let keyStore: KeyStore
    let configuration: Configuration
    let logger: Logger
    let metrics = WebhookMetrics()
    let group: MultiThreadedEventLoopGroup
    let client: HTTPClient

    /// - Throws: ``WebhookError`` (`endpoint`) when `additionalTrustRootsFile` holds no readable PEM certificate.
    public init(store: any WebhookStore, keyStore: KeyStore, configuration: Configuration, logger: Logger)
        throws(WebhookError)
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.additionalTrustRootsFile {
            guard (try? NIOSSLCertificate.fromPEMFile(file))?.isEmpty == false else {
                throw WebhookError(.endpoint, "the webhook CA file \(file) holds no readable PEM certificate")
            }
            tls.additionalTrustRoots = [.file(file)]
        }
        self.store = store
        self.keyStore = keyStore
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let timeout = TimeAmount.nanoseconds(Int64(WebhookRetryPolicy.seconds(configuration.requestTimeout) * 1e9))
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        // Certificates are verified (AsyncHTTPClient's default full verification); a redirect is a failure,
        // never followed (it could point inward, past the SSRF guard).
        self.client = HTTPClient(
            eventLoopGroup: group,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                redirectConfiguration: .disallow,
                timeout: .init(connect: timeout, read: timeout),
                connectionPool: pool
            )
        )
    }

    public func run() async throws {
        logger.info("webhook dispatcher started", metadata: ["node": "\(configuration.node)"])
        // On graceful shutdown the pass in flight finishes (its sends are bounded by the request timeout and
        // their outcomes recorded, so nothing acknowledged is sent again) and no new rows are claimed; only
        // the pause between passes is cut short.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let claimed = await pass()
            if claimed == 0 {
                let interval = configuration.pollInterval
                await cancelWhenGracefulShutdown { try? await Task.sleep(for: interval) }
            }
        }
        // One last pass for what became due while the other services drained (serve stops this one last).
        if !Task.isCancelled { await pass() }
        await shutdown()
    }

    /// One pass: claims a batch, sends it, records the outcomes; returns how many rows it claimed.
    @discardableResult
    public func pass() async -> Int {
        let batch: [WebhookDelivery]
        do {
            batch = try await store.claim(
                owner: configuration.node,
                limit: configuration.batchSize,
                lease: configuration.lease
            )
            metrics.pending.record(try await store.pendingCount())
        } catch {
            logger.warning("cannot claim webhook deliveries", metadata: ["error": "\(error.message)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { tasks in
            for delivery in batch {
                tasks.addTask { await self.deliver(delivery) }
            }
        }
        return batch.count
    }

    func deliver(_ delivery: WebhookDelivery) async {
        let outcome: Result<Void, WebhookError>
        do throws(WebhookError) {
            try await send(delivery)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let now = Date()
        do {
            switch outcome {
            case .success:
                if try await store.markDelivered(id: delivery.id, owner: configuration.node) {
                    metrics.delivered.increment()
                }
                logger.debug(
                    "webhook delivered",
                    metadata: ["id": "\(delivery.id)", "type": "\(delivery.type.rawValue)"]
                )
            case .failure(let error):
                // The give-up time is judged by this node's clock against the row's armedAt (a 24 h window:
                // seconds of skew do not matter); the wait itself is counted by the store's clock.
                let retryAfter =
                    error.code == .refusedTarget || error.code == .endpoint
                    ? nil
                    : configuration.retry.delay(
                        afterAttempt: delivery.attempts,
                        armedAt: delivery.armedAt,
                        now: now,
                        random: Double.random(in: 0..<1)
                    )
                _ = try await store.markFailed(
                    id: delivery.id,
                    owner: configuration.node,
                    error: error.description,
                    retryAfter: retryAfter
                )
                if retryAfter == nil { metrics.dead.increment() } else { metrics.retried.increment() }
                logger.notice(
                    retryAfter == nil ? "webhook dead-lettered" : "webhook delivery failed; will retry",
                    metadata: [
                        "id": "\(delivery.id)", "tenant": "\(delivery.tenantId)", "attempt": "\(delivery.attempts)",
                        "error": "\(error.description)",
                    ]
                )
            }
        } catch {
            // The lease runs out and the row is sent again: at least once.
            logger.warning(
                "cannot record a webhook outcome",
                metadata: ["id": "\(delivery.id)", "error": "\(error.message)"]
            )
        }
    }

    /// Signs and POSTs one row; throws why it was not acknowledged with a 2xx.
    func send(_ delivery: WebhookDelivery) async throws(WebhookError) {
        let endpoint: WebhookEndpoint
        do {
            guard let found = try await store.endpoint(tenantID: delivery.tenantId) else {
                throw WebhookError(.endpoint, "tenant \(delivery.tenantId) has no webhook endpoint any more")
            }
            endpoint = found
        } catch let error as WebhookError {
            throw error
        } catch {
            throw WebhookError(.transport, "cannot read the endpoint: \(error)")
        }
        guard let url = URL(string: endpoint.url) else {
            throw WebhookError(.endpoint, "the webhook URL does not parse")
        }
        try await Self.checkTarget(url, allowPrivate: endpoint.allowPrivate)
        let now = Date()
        var secrets: [SecretKey] = []
        do {
            secrets.append(try keyStore.webhookSecret(tenantID: delivery.tenantId, endpoint.secret))
            if let previous = endpoint.previousSecret, let until = endpoint.previousUntil, now < until {
                secrets.append(try keyStore.webhookSecret(tenantID: delivery.tenantId, previous))
            }
        } catch {
            throw WebhookError(.endpoint, "the tenant's webhook secret cannot be opened: \(error.message)")
        }
        let timestamp = Int64(now.timeIntervalSince1970)
        let body = Array(delivery.payload.utf8)
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "CallVault-Webhooks/1")
        request.headers.add(name: "webhook-id", value: delivery.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: WebhookSigner.signature(id: delivery.id, timestamp: timestamp, body: body, secrets: secrets)
        )
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: UInt
        do {
            let response = try await client.execute(
                request,
                timeout: .nanoseconds(Int64(WebhookRetryPolicy.seconds(configuration.requestTimeout) * 1e9))
            )
            status = response.status.code
            // Drained and dropped: a receiver's body is never stored or logged.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw WebhookError(.transport, Self.describe(error, timeout: configuration.requestTimeout))
        }
        guard (200..<300).contains(status) else {
            throw WebhookError(.status, "the receiver answered \(status)")
        }
    }

    /// Resolves off the cooperative pool (getaddrinfo blocks) and applies the SSRF guard, on NIO's thread
    /// pool: not on Dispatch's global queue, whose few threads the process's synchronous work can hold for
    /// minutes (a full test run starved it, and every delivery waited behind the name lookup).
    static func checkTarget(_ url: URL, allowPrivate: Bool) async throws(WebhookError) {
        let result: Result<Void, WebhookError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { () -> Result<Void, WebhookError> in
                do throws(WebhookError) {
                    try WebhookTargetGuard.check(url, allowPrivate: allowPrivate)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw WebhookError(.transport, "the webhook host could not be checked: \(error)")
        }
        try result.get()
    }

    static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout:
                return "no answer within \(WebhookRetryPolicy.seconds(timeout)) s"
            default: return "HTTP client: \(error)"
            }
        }
        return "\(type(of: error)): \(error)"
    }

    /// Closes the client's connections and the dispatcher's event loop; ``run()`` does it when it ends.
    /// A dispatcher driven by ``pass()`` alone (tests, tools) must call it before it is released.
    public func shutdown() async {
        try? await client.shutdown()
        try? await group.shutdownGracefully()
    }
}
