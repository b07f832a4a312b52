public import CallVaultModel
public import CallVaultStore
import Foundation
public import Logging

/// The HTTP control API beside the media streams (CLI.md, docs/openapi.json): registers calls, takes
/// consent events, answers health, metrics and its own OpenAPI document. Async: the server runs it as a
/// task, off the event loops (on the blocking thread pool for the SQLite catalog, whose transactions hold
/// their thread; ``IngestServer``).
///
/// Every call-scoped route authenticates the tenant by its bearer token and looks the call up within
/// that tenant only, so one tenant's token never reaches, or learns of, another tenant's call. Errors are
/// RFC 9457 problem details; a tenant over its request rate, or an address that sent too many unknown
/// tokens, gets 429 with `Retry-After` (``ControlAPILimits``).
public final class ControlAPI: Sendable {
    public let catalog: any CatalogStore
    public let liveCalls: LiveCallRegistry
    /// Derives the tenant's caller keys, for the keyed hash and encrypted copy of a `from` number.
    let callerKeys: @Sendable (String) throws -> CallerKeys
    /// Renders the metrics registry in Prometheus text format.
    let metricsText: @Sendable () -> String
    /// Prepares a tenant's day keys before a call is registered (this API runs off the event loops, so
    /// it may wait for the key provider); nil without a key provider.
    let dayKeys: DayKeyPreparer?
    /// The data disk's state: `/healthz` reports it, and new calls are refused while it is low or failing.
    let storage: StorageMonitor?
    /// Where the bot's utterances are sealed; nil: this server does not take them (503).
    let botUtterances: BotUtteranceVault?
    let logger: Logger
    let limits: ControlAPILimits
    /// Per tenant: requests on the authenticated routes (nil: no limit).
    let tenantRequests: TokenBuckets?
    /// Per source address: unknown tokens (nil: no throttle).
    let tokenFailures: TokenBuckets?
    let metrics = ControlAPIMetrics()

    /// Bodies above this are refused with 413 before they are parsed.
    public static let maximumBodyBytes = 64 * 1024

    public init(
        catalog: any CatalogStore, liveCalls: LiveCallRegistry, logger: Logger,
        callerKeys: @escaping @Sendable (String) throws -> CallerKeys = { tenantID in
            throw CatalogError(.cryptoFailure, "no key store: caller numbers cannot be stored for tenant \(tenantID)")
        },
        metricsText: @escaping @Sendable () -> String = { "" },
        dayKeys: DayKeyPreparer? = nil,
        limits: ControlAPILimits = ControlAPILimits(),
        storage: StorageMonitor? = nil,
        botUtterances: BotUtteranceVault? = nil
    ) {
        self.dayKeys = dayKeys
        self.storage = storage
        self.botUtterances = botUtterances
        self.catalog = catalog
        self.callerKeys = callerKeys
        self.liveCalls = liveCalls
        self.logger = logger
        self.metricsText = metricsText
        self.limits = limits
        tenantRequests =
            limits.requestsPerSecond > 0
            ? TokenBuckets(rate: limits.requestsPerSecond, burst: max(1, (2 * limits.requestsPerSecond).rounded(.down)))
            : nil
        tokenFailures =
            limits.tokenFailuresPerMinute > 0
            ? TokenBuckets(rate: Double(limits.tokenFailuresPerMinute) / 60, burst: Double(limits.tokenFailuresPerMinute))
            : nil
    }

    public func handle(_ request: ControlRequest) async -> ControlResponse {
        let path = request.path
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let isEvents = parts.count == 4 && parts[0] == "v1" && parts[1] == "calls" && parts[3] == "events"
        let isUtterances = parts.count == 4 && parts[0] == "v1" && parts[1] == "calls" && parts[3] == "utterances"
        switch (request.method, parts.count) {
        case ("GET", _) where path == "/healthz":
            return health()
        case ("GET", _) where path == "/metrics":
            return ControlResponse(
                status: 200, contentType: "text/plain; version=0.0.4", body: Array(metricsText().utf8))
        case ("GET", _) where path == "/openapi.json":
            return ControlResponse(status: 200, contentType: "application/json", body: OpenAPIDocument.bytes)
        case ("GET", _) where MediaEndpoint(rawValue: String(path)) != nil:
            return await refusedUpgrade(request)
        case ("POST", 2) where path == "/v1/calls":
            return await registerCall(request)
        case ("POST", 4) where isEvents:
            // The call's id as the client sent it, percent-encoded in the path (`a/b` is `a%2Fb`).
            let raw = String(parts[2])
            return await postEvent(request, externalCallID: raw.removingPercentEncoding ?? raw)
        case ("POST", 4) where isUtterances:
            let raw = String(parts[2])
            return await postUtterance(request, externalCallID: raw.removingPercentEncoding ?? raw)
        case (_, _)
        where path == "/healthz" || path == "/metrics" || path == "/openapi.json" || MediaEndpoint(rawValue: String(path)) != nil:
            return .error(405, "\(request.method) is not allowed on \(path)", headers: [.init("Allow", "GET")])
        case (_, _) where path == "/v1/calls" || isEvents || isUtterances:
            // The route's template, not the path: a call id may be a phone number on some platforms.
            let route = isEvents ? "/v1/calls/{callId}/events" : isUtterances ? "/v1/calls/{callId}/utterances" : "/v1/calls"
            return .error(405, "\(request.method) is not allowed on \(route)", headers: [.init("Allow", "POST")])
        default:
            // Not echoed: the path is whatever the client sent, a number or a token among it.
            return .error(404, "no such endpoint (the routes are listed at GET /openapi.json)")
        }
    }

    /// `GET /healthz`: 200 `{"status":"ok"}`, or 503 `{"status":"degraded","reason":…}` while the data
    /// disk is low or failing (new calls are refused; live calls go on), so a load balancer sends new calls
    /// elsewhere. `storage` gives the free bytes and the threshold.
    private func health() -> ControlResponse {
        guard let storage else { return .json(200, ["status": "ok", "activeCalls": liveCalls.count]) }
        let state = storage.health
        var body: [String: any Sendable] = [
            "status": state.degradedReason == nil ? "ok" : "degraded", "activeCalls": liveCalls.count,
            "storage": ["freeBytes": state.freeBytes, "minFreeBytes": state.minimumFreeBytes] as [String: any Sendable],
        ]
        if let reason = state.degradedReason { body["reason"] = reason }
        return .json(state.degradedReason == nil ? 200 : 503, body)
    }

    /// A request on a media path that did not upgrade: its token was refused (401, or 429 from an
    /// address that sent too many unknown tokens), the catalog could not check it (503, with the reason:
    /// never reported as an unknown token), or it was not a WebSocket upgrade (400).
    private func refusedUpgrade(_ request: ControlRequest) async -> ControlResponse {
        if let token = request.bearerToken ?? request.query("token"),
            case .failure(let failure) = await authenticate(token, from: request.remoteAddress)
        {
            return failure.response
        }
        return .error(400, "\(request.path) is a WebSocket endpoint: send an Upgrade: websocket request")
    }

    /// `POST /v1/calls` `{"callId","from"?,"to"?}`: registers a call before (or while) it streams.
    ///
    /// With a key provider, the tenant's day keys are made ready first (a round trip to the provider
    /// when they are not in memory, which this thread may wait for): a provider that fails for this
    /// tenant answers 503 with the reason, naming the tenant and the provider, and nothing is registered.
    private func registerCall(_ request: ControlRequest) async -> ControlResponse {
        let tenant: Tenant
        let object: [String: Any]
        switch await authenticatedObject(request) {
        case .success(let found): (tenant, object) = found
        case .failure(let failure): return failure.response
        }
        guard let callID = object["callId"] as? String, !callID.isEmpty, callID.utf8.count <= 200,
            !callID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            return .error(400, "callId must be a string of 1 to 200 bytes without control characters")
        }
        for field in ["from", "to"] where object[field] != nil && !(object[field] is String) {
            return .error(400, "\(field) must be a string")
        }
        // Checked before the call is looked up, so a second registration answers a bad number as the first.
        if let from = object["from"] as? String {
            do throws(CatalogError) { try CallerNumber.check(from) } catch { return .error(400, error.message) }
        }
        if let refusal = storage?.refusal {
            return .error(503, "no new recording can start: \(refusal); retry later")
        }
        if let dayKeys {
            do throws(KeyStoreError) {
                try dayKeys.ensureReady(tenant)
            } catch {
                logger.error(
                    "call refused: the tenant's day keys cannot be prepared",
                    metadata: ["tenant": "\(tenant.id)", "code": "\(error.code.rawValue)", "error": "\(error.message)"])
                return .error(503, "tenant \(tenant.id): no recording can start now: \(error.message); retry")
            }
        }
        do {
            if let existing = try await catalog.call(tenantID: tenant.id, externalID: callID) {
                return .json(200, ["id": existing.id, "callId": callID, "created": false])
            }
            let from = object["from"] as? String
            let keys: CallerKeys?
            do { keys = try from.map { _ in try callerKeys(tenant.id) } } catch {
                logger.error("caller keys unavailable", metadata: ["tenant": "\(tenant.id)"])
                return .error(503, "the key store is unavailable; retry")
            }
            let call = try await catalog.registerCall(
                tenantID: tenant.id, externalID: callID, callerNumber: from, startedAt: Date(), actor: "api",
                callerKeys: keys)
            return .json(201, ["id": call.id, "callId": callID, "created": true])
        } catch where error.code == .duplicate {
            // Registered by a concurrent request between the look-up and the insert: the same answer as a
            // second registration.
            guard let existing = try? await catalog.call(tenantID: tenant.id, externalID: callID) else {
                return .error(503, "the catalog is unavailable; retry")
            }
            return .json(200, ["id": existing.id, "callId": callID, "created": false])
        } catch where error.code == .invalidArgument {
            return .error(400, error.message)
        } catch {
            logger.error("cannot register a call", metadata: ["error": "\(error.message)"])
            return .error(503, "the catalog is unavailable; retry")
        }
    }

    /// `POST /v1/calls/{callId}/events` `{"type","method"}`: a consent event for a call of this tenant.
    private func postEvent(_ request: ControlRequest, externalCallID: String) async -> ControlResponse {
        let tenant: Tenant
        let object: [String: Any]
        switch await authenticatedObject(request) {
        case .success(let found): (tenant, object) = found
        case .failure(let failure): return failure.response
        }
        let typeText = object["type"] as? String
        let isSensitive = typeText == CallLifecycle.sensitiveStart || typeText == CallLifecycle.sensitiveEnd
        let kind = typeText.flatMap(ConsentEventKind.init(rawValue:))
        guard isSensitive || kind != nil else {
            let allowed = (ConsentEventKind.allCases.map(\.rawValue) + [CallLifecycle.sensitiveStart, CallLifecycle.sensitiveEnd])
                .joined(separator: ", ")
            return .error(400, "type must be one of \(allowed)")
        }
        // A `method` that is there must be one of the methods (not a number or an object taken for `api`).
        let method: ConsentMethod
        switch object["method"] {
        case nil: method = .api
        case let text as String where ConsentMethod(rawValue: text) != nil: method = ConsentMethod(rawValue: text)!
        default:
            let allowed = ConsentMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return .error(400, "method must be one of \(allowed)")
        }
        guard let kind else {
            return await postSensitive(
                open: typeText == CallLifecycle.sensitiveStart, tenant: tenant, externalCallID: externalCallID)
        }
        do {
            guard let call = try await catalog.call(tenantID: tenant.id, externalID: externalCallID) else {
                return .error(404, "no call with this callId for this tenant (register it with POST /v1/calls)")
            }
            let live = liveCalls.streams(id: call.id)
            if !live.isEmpty {
                return await applyLive(live, kind: kind, method: method, externalCallID: externalCallID)
            }
            _ = try await catalog.recordConsentEvent(
                callID: call.id, kind: kind, method: method, at: Date(), frameIndex: nil, timelineMs: nil, actor: "api")
            return .json(201, ["callId": externalCallID, "type": kind.rawValue, "applied": "when the stream starts"])
        } catch {
            logger.error("cannot record a consent event", metadata: ["error": "\(error.message)"])
            return .error(503, "the catalog is unavailable; retry")
        }
    }

    /// `sensitive-start` / `sensitive-end`: opens or closes the call's sensitive window at the live stream's
    /// timeline position (one stream decides; a call's streams share a timeline). Only on a live call: a
    /// window is a place in the audio as it is recorded. 200 once stored; 503 when it could not be (then
    /// pause the recording instead).
    private func postSensitive(open: Bool, tenant: Tenant, externalCallID: String) async -> ControlResponse {
        let type = open ? CallLifecycle.sensitiveStart : CallLifecycle.sensitiveEnd
        let stream: any LiveCall
        switch await streamingCall(
            tenant, externalCallID, notStreaming: "a sensitive window is placed on a live call's timeline")
        {
        case .success(let found): stream = found.stream
        case .failure(let failure): return failure.response
        }
        let outcome: ConsentEventOutcome
        do { outcome = try await stream.postSensitive(open: open).get() } catch {
            outcome = .notStored("the stream ended before the window could be placed")
        }
        switch outcome {
        case .applied: return .json(200, ["callId": externalCallID, "type": type, "applied": "now"])
        case .refused(let reason): return .error(409, reason)
        case .notStored(let reason): return .error(503, "\(reason); pause the recording instead, or retry")
        }
    }

    /// The tenant's call by the platform's id and a stream recording it now; or 503 (catalog), 404 (no
    /// such call for this tenant) or 409 (not streaming: `notStreaming` says why that matters).
    func streamingCall(_ tenant: Tenant, _ externalCallID: String, notStreaming: String) async
        -> Result<(call: CallRecord, stream: any LiveCall), ControlFailure>
    {
        let call: CallRecord?
        do { call = try await catalog.call(tenantID: tenant.id, externalID: externalCallID) } catch {
            logger.error("cannot read a call", metadata: ["error": "\(error.message)"])
            return .failure(ControlFailure(.error(503, "the catalog is unavailable; retry")))
        }
        guard let call else {
            return .failure(
                ControlFailure(.error(404, "no call with this callId for this tenant (register it with POST /v1/calls)")))
        }
        guard let stream = liveCalls.streams(id: call.id).first else {
            return .failure(ControlFailure(.error(409, "the call is not streaming: \(notStreaming)")))
        }
        return .success((call, stream))
    }

    /// Sends an event to every live stream of a call and waits for what became of it (a suspension,
    /// never on an event loop): 200 when stored and applied, 409 when the gate refused it, 503 with the
    /// reason and its effect when its evidence could not be stored.
    private func applyLive(
        _ streams: [any LiveCall], kind: ConsentEventKind, method: ConsentMethod, externalCallID: String
    ) async -> ControlResponse {
        var outcomes: [ConsentEventOutcome] = []
        for future in streams.map({ $0.post(kind, method: method) }) {
            do {
                outcomes.append(try await future.get())
            } catch {
                outcomes.append(.notStored("the stream ended before the event could be applied"))
            }
        }
        var recording = false
        var applied = false
        var refusal: String?
        var failure: String?
        for outcome in outcomes {
            switch outcome {
            case .applied(let now):
                applied = true
                recording = recording || now
            case .refused(let reason): refusal = refusal ?? reason
            case .notStored(let reason): failure = failure ?? reason
            }
        }
        if let failure {
            return .error(503, "\(failure); retry")
        }
        guard applied else { return .error(409, refusal ?? "the event was refused") }
        return .json(
            200, ["callId": externalCallID, "type": kind.rawValue, "applied": "next frame", "recording": recording])
    }

    /// The tenant the request's token authenticates (within its rate) and the JSON object of its body;
    /// or the response that refuses it (401, 429, 503, 413, 400).
    func authenticatedObject(_ request: ControlRequest) async -> Result<(Tenant, [String: Any]), ControlFailure> {
        switch await authenticateLimited(request) {
        case .success(let tenant): parseObject(request.body).map { (tenant, $0) }
        case .failure(let failure): .failure(failure)
        }
    }

    private func parseObject(_ body: [UInt8]) -> Result<[String: Any], ControlFailure> {
        guard body.count <= Self.maximumBodyBytes else {
            return .failure(ControlFailure(.error(413, "body larger than \(Self.maximumBodyBytes) bytes")))
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(ControlFailure(.error(400, "body must be a JSON object")))
        }
        return .success(object)
    }
}

/// A refused request, carried as an error so `Result` can hold it.
public struct ControlFailure: Error, Sendable {
    public let response: ControlResponse
    init(_ response: ControlResponse) { self.response = response }
}
