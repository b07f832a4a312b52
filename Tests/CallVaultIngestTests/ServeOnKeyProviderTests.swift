import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import CallVaultIngest

/// A real provider that notes, for every call passed on, whether it was made on a SwiftNIO event loop.
final class LoopWatchingProvider: KeyProvider {
    let inner: any KeyProvider
    private let counts = Mutex((onLoop: 0, offLoop: 0))

    init(_ inner: any KeyProvider) { self.inner = inner }

    /// Calls made on an event loop (must stay 0) and elsewhere.
    var onLoop: Int { counts.withLock { $0.onLoop } }
    var offLoop: Int { counts.withLock { $0.offLoop } }

    private func note() {
        let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
        counts.withLock { onLoop ? ($0.onLoop += 1) : ($0.offLoop += 1) }
    }

    var kind: KeyProviderKind { inner.kind }
    var location: String { inner.location }
    func createKey(named name: String) throws(KeyProviderError) {
        note()
        try inner.createKey(named: name)
    }
    func keyExists(named name: String) throws(KeyProviderError) -> Bool {
        note()
        return try inner.keyExists(named: name)
    }
    func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        note()
        return try inner.wrap(key, under: name, context: context)
    }
    func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError) -> SecretKey {
        note()
        return try inner.unwrap(wrapped, under: name, context: context)
    }
    func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        note()
        return try inner.destroyKey(named: name)
    }
}

/// An in-process `serve` (real Twilio sessions, control API, flush group, day-key preparer) whose key
/// store wraps day keys in a real SoftHSM2 token or OpenBao Transit server, through a
/// ``LoopWatchingProvider``.
final class ProviderServer {
    let root: TemporaryDirectory
    let directory: DataDirectory
    let catalog: Catalog
    let keyStore: KeyStore
    let provider: LoopWatchingProvider
    let openBao: OpenBaoServer?
    let dayKeys: DayKeyPreparer
    let logs: CapturedLog
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// The tenant with a provider of its own (`ownProviderTenant`), and how often its provider was opened
    /// on an event loop and elsewhere.
    private(set) var ownTenant: (id: String, token: String)?
    let opens = OpenCounts()

    /// How often a tenant's own provider was opened on an event loop and elsewhere.
    final class OpenCounts: Sendable {
        private let counts = Mutex((onLoop: 0, offLoop: 0))
        func note() {
            let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            counts.withLock { onLoop ? ($0.onLoop += 1) : ($0.offLoop += 1) }
        }
        var onLoop: Int { counts.withLock { $0.onLoop } }
        var offLoop: Int { counts.withLock { $0.offLoop } }
    }

    /// - Parameters:
    ///   - cacheTTL: how long the key store keeps an unwrapped day key (the preparer is not started: a
    ///     test runs its passes or starts it).
    ///   - ownProviderTenant: a `local` directory where this one tenant brings its own provider (`kind`),
    ///     opened on first use through a `KeyProviderSet`.
    init(_ kind: KeyProviderKind, cacheTTL: Duration = .seconds(300), ownProviderTenant: Bool = false) async throws {
        let inner: any KeyProvider
        switch kind {
        case .pkcs11:
            if let reason = SoftHSMToken.unavailableReason { Issue.record(Comment(rawValue: reason)) }
            _ = try SoftHSMToken.prepare()
            inner = try PKCS11KeyProvider(
                .init(modulePath: SoftHSMToken.modulePath, tokenLabel: SoftHSMToken.label, pin: SoftHSMToken.pin))
            openBao = nil
        default:
            let server = try OpenBaoServer()
            inner = try TransitKeyProvider(
                .init(url: server.url, token: TransitToken(server.token), requestTimeout: .seconds(2)))
            openBao = server
        }
        let provider = LoopWatchingProvider(inner)
        let root = try TemporaryDirectory("serve-provider")
        let directory = DataDirectory(path: root.appending("data"))
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        let logs = CapturedLog()
        let logger = logs.logger()
        let catalog = try Catalog(path: directory.catalogPath)
        var providers = KeyProviderSet(default: provider)
        var own: (id: String, token: String)?
        let opens = self.opens
        if ownProviderTenant {
            let added = try catalog.addTenant(name: "own", policy: TenantPolicy(consentMode: .notRequired))
            own = (added.tenant.id, added.token)
            providers = KeyProviderSet(
                default: nil,
                tenants: [
                    added.tenant.id: {
                        opens.note()
                        return provider
                    }
                ])
        }
        let keyStore = try KeyStore(
            path: directory.keyStorePath, rootKey: FileRootKey(path: directory.rootKeyPath), logger: logger,
            keyProviders: providers, dayKeyCacheTTL: cacheTTL)
        if let own { try keyStore.createTenant(own.id) }
        ownTenant = own
        let dayKeys = DayKeyPreparer(
            catalog: catalog, keyStore: keyStore, logger: logger, interval: .milliseconds(500),
            retryGap: .milliseconds(200))
        (self.provider, self.root, self.directory, self.logs) = (provider, root, directory, logs)
        (self.keyStore, self.catalog, self.dayKeys) = (keyStore, catalog, dayKeys)
        let flushGroup = FlushGroup(interval: .milliseconds(100), catalog: catalog, logger: logger)
        let liveCalls = LiveCallRegistry()
        let context = IngestContext(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: flushGroup,
            liveCalls: liveCalls, logger: logger, dayKeys: dayKeys)
        let api = ControlAPI(
            catalog: catalog, liveCalls: liveCalls, logger: logger,
            callerKeys: { try keyStore.callerKeys(tenantID: $0) }, dayKeys: dayKeys)
        let server = IngestServer(
            configuration: .init(host: "127.0.0.1", port: 0), api: api, logger: logger,
            makeSession: context.mediaSessions)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: logger)
        self.group = group
        task = Task { try await group.run() }
        port = try await server.localAddress().port ?? 0
    }

    /// Adds a tenant that records without asking (consent not required); returns its id and token.
    func addTenant(_ name: String) throws -> (id: String, token: String) {
        let added = try catalog.addTenant(name: name, policy: TenantPolicy(consentMode: .notRequired))
        try keyStore.createTenant(added.tenant.id)
        return (added.tenant.id, added.token)
    }

    func tenant(_ id: String) throws -> Tenant { try catalog.tenant(id: id) }

    /// A Twilio call of 50 caller frames (1 s of μ-law 0x55): the close code and reason it ended with.
    func call(token: String, callSid: String) throws -> (code: Int, reason: String) {
        let ws = try TestSocketClient(port: port)
        #expect(ws.upgrade("/v1/twilio?token=\(token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: callSid))
        for frame in 0..<50 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
        let close = try #require(ws.readFrame(), "the stream of \(callSid) was not closed")
        #expect(close.opcode == 8)
        return TestSocketClient.closeCode(close.payload)
    }

    /// The recordings of a call of a tenant (none when the call was never registered).
    func recordings(tenantID: String, callSid: String) throws -> [RecordingSummary] {
        guard let call = try catalog.call(tenantID: tenantID, externalID: callSid) else { return [] }
        return try catalog.recordingSummaries(callID: call.id)
    }

    /// Decrypts the call's one recording: 1 s of the caller's μ-law 0x55.
    func expectRecorded(tenantID: String, callSid: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let recordings = try recordings(tenantID: tenantID, callSid: callSid)
        #expect(
            recordings.count == 1 && recordings.first?.state == .complete && recordings.first?.durationMs == 1000,
            "\(recordings)", sourceLocation: sourceLocation)
        guard let recording = recordings.first else { return }
        let export = try await RecordingExporter(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, payloadFormat: SegmentPayload.format
        ).export(recordingID: recording.id, actor: "test", onTimeline: false)
        let expected = G711.muLawToLinear(0x55)
        #expect(
            export.samples.count == 50 * 160 && export.samples.allSatisfy { $0 == expected },
            sourceLocation: sourceLocation)
    }

    func stop() async throws {
        dayKeys.stop()
        await group.triggerGracefulShutdown()
        try await task.value
        (provider.inner as? TransitKeyProvider)?.shutdown()
        if let openBao { _ = try? openBao.kill() }
        root.remove()
    }
}

/// `serve` on a key provider: recordings open their data keys on the event loops from day keys the
/// preparer made ready off the loops; a tenant whose day key is not ready is refused with a reason
/// naming it and the provider, records nothing, and records on a retry once the key is fetched.
@Suite(
    "serve on a key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(
        if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct ServeOnKeyProviderTests {
    @Test(arguments: [KeyProviderKind.pkcs11, .transit])
    func callsRecordWithNoProviderCallOnAnEventLoopAndANewTenantIsRefusedThenRecordsOnRetry(
        kind: KeyProviderKind
    ) async throws {
        let server = try await ProviderServer(kind)
        let a = try server.addTenant("a")
        #expect(server.dayKeys.prepareAll().isEmpty)
        #expect(server.dayKeys.isReady(try server.tenant(a.id)))
        // Tenant b is added after the pass: its day key exists nowhere yet.
        let b = try server.addTenant("b")
        #expect(!server.dayKeys.isReady(try server.tenant(b.id)))

        let aClose = try server.call(token: a.token, callSid: "CA-a1")
        #expect(aClose.code == 1000, "\(aClose)")
        try await server.expectRecorded(tenantID: a.id, callSid: "CA-a1")

        // b's first call: refused at its start with a reason naming b and the provider; nothing recorded.
        let refused = try server.call(token: b.token, callSid: "CA-b1")
        #expect(refused.code == 1011, "\(refused)")
        #expect(refused.reason.contains(b.id) && refused.reason.contains(kind.rawValue), "\(refused.reason)")
        #expect(try server.recordings(tenantID: b.id, callSid: "CA-b1").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: server.directory.path + "/recordings/\(b.id)"), "no file of b")
        #expect(await server.logs.wait(for: "call refused: the tenant's day key is not ready in memory"))
        // The refusal asked the preparer to fetch b's day key, off the loops: a retry records.
        let ready = try poll(timeout: .seconds(20)) { server.dayKeys.isReady(try server.tenant(b.id)) }
        #expect(ready, "the preparer fetched b's day key after the refusal")
        let retried = try server.call(token: b.token, callSid: "CA-b2")
        #expect(retried.code == 1000, "\(retried)")
        try await server.expectRecorded(tenantID: b.id, callSid: "CA-b2")

        #expect(server.provider.offLoop > 0, "the day keys came from the provider")
        #expect(server.provider.onLoop == 0, "\(server.provider.onLoop) provider call(s) on an event loop")
        try await server.stop()
    }

    @Test func aTransitServerThatStopsAnsweringRefusesOnlyTheTenantItFailsAndItsCallsResumeWhenItAnswers()
        async throws
    {
        let server = try await ProviderServer(.transit)
        let openBao = try #require(server.openBao)
        let a = try server.addTenant("a")
        #expect(server.dayKeys.prepareAll().isEmpty, "a's day keys are prepared")
        let b = try server.addTenant("b")

        // OpenBao hangs (SIGSTOP): requests time out after 2 s.
        openBao.pause()
        let bTenant = try server.tenant(b.id)
        #expect(throws: KeyStoreError.self) { try server.dayKeys.prepare(bTenant) }
        let failure = try #require(server.dayKeys.failure(tenantID: b.id))
        #expect(failure.code == .providerFailed && failure.message.contains(b.id), "\(failure)")
        #expect(failure.message.contains("transit key provider at") && failure.message.contains(openBao.url))

        // b: the control API answers 503 naming b and the provider, and the stream is refused; nothing recorded.
        let api = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls", headers: ["Authorization": "Bearer \(b.token)"], body: #"{"callId":"CA-b1"}"#))
        #expect(api.status == 503, "\(api)")
        #expect(api.body.contains(b.id) && api.body.contains("transit key provider"), "\(api.body)")
        let refused = try server.call(token: b.token, callSid: "CA-b1")
        #expect(refused.code == 1011 && refused.reason.contains(b.id), "\(refused)")
        #expect(refused.reason.contains("transit key provider failed"), "\(refused.reason)")
        #expect(try server.recordings(tenantID: b.id, callSid: "CA-b1").isEmpty)

        // a goes on: its day key is in memory; the call records and exports with the provider still hung.
        let aClose = try server.call(token: a.token, callSid: "CA-a1")
        #expect(aClose.code == 1000, "\(aClose)")
        try await server.expectRecorded(tenantID: a.id, callSid: "CA-a1")

        // OpenBao answers again: b's calls work without a restart (the preparer's periodic pass, or the
        // next refused call's request, fetches its day key).
        openBao.resume()
        server.dayKeys.start()
        let ready = try poll(timeout: .seconds(30)) { () throws -> Bool in
            server.dayKeys.isReady(bTenant) && server.dayKeys.failure(tenantID: b.id) == nil
        }
        #expect(ready, "b's day keys prepared once OpenBao answers: \(String(describing: server.dayKeys.failure(tenantID: b.id)))")
        let retried = try server.call(token: b.token, callSid: "CA-b2")
        #expect(retried.code == 1000, "\(retried)")
        try await server.expectRecorded(tenantID: b.id, callSid: "CA-b2")
        #expect(server.provider.onLoop == 0, "\(server.provider.onLoop) provider call(s) on an event loop")
        #expect(!server.logs.all.contains { $0.contains(openBao.token) }, "no token in the log")
        try await server.stop()
    }

    @Test func aDayKeyThatLeftMemoryBeforeConsentRefusesTheRecordingWithNothingWrittenAndNoProviderCallOnTheLoop()
        async throws
    {
        let server = try await ProviderServer(.pkcs11, cacheTTL: .seconds(1))
        let added = try server.catalog.addTenant(name: "c", policy: TenantPolicy(consentDigit: "1"))
        try server.keyStore.createTenant(added.tenant.id)
        #expect(server.dayKeys.prepareAll().isEmpty)
        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(added.token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-c1"))
        for frame in 0..<25 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        // The stream started with the day key in memory; it leaves memory (its time to live, no
        // preparer running) before the caller consents and the recording opens.
        let started = try poll(timeout: .seconds(10)) {
            try server.catalog.call(tenantID: added.tenant.id, externalID: "CA-c1") != nil
        }
        #expect(started)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!server.dayKeys.isReady(added.tenant))
        let before = server.provider.offLoop
        ws.sendFrame(opcode: 1, ServeLimitsTests.consent)
        for frame in 25..<75 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        let close = TestSocketClient.closeCode(try #require(ws.readFrame(), "the stream was not closed").payload)
        #expect(close.code == 1011 && close.reason.contains(added.tenant.id) && close.reason.contains("pkcs11"), "\(close)")

        // The recording row is closed empty (interrupted, 0 bytes); no sealed file exists; nothing on the loop.
        let call = try #require(try server.catalog.call(tenantID: added.tenant.id, externalID: "CA-c1"))
        let recordings = try server.catalog.recordingSummaries(callID: call.id)
        #expect(recordings.count == 1 && recordings.first?.state == .interrupted && recordings.first?.durationMs == 0, "\(recordings)")
        let files = FileManager.default.enumerator(atPath: server.directory.path + "/recordings")?.allObjects ?? []
        #expect(!files.contains { "\($0)".hasSuffix(".cvr") }, "\(files)")
        #expect(server.provider.onLoop == 0, "\(server.provider.onLoop) provider call(s) on an event loop")
        // The refusal asked the preparer for the day key (off the loops).
        let fetched = try poll(timeout: .seconds(10)) { () throws -> Bool in server.provider.offLoop > before }
        #expect(fetched, "the preparer fetched the day key again")
        try await server.stop()
    }

    @Test func aTenantWithItsOwnProviderIsPreparedThroughItOffTheLoopsBesideALocalTenant() async throws {
        let server = try await ProviderServer(.transit, ownProviderTenant: true)
        let own = try #require(server.ownTenant)
        let plain = try server.addTenant("plain")
        // Before any pass: the local tenant records; the tenant with its own provider is refused naming it,
        // and its provider is not opened on the loop.
        #expect(try server.call(token: plain.token, callSid: "CA-p1").code == 1000)
        try await server.expectRecorded(tenantID: plain.id, callSid: "CA-p1")
        let refused = try server.call(token: own.token, callSid: "CA-o1")
        #expect(refused.code == 1011 && refused.reason.contains(own.id), "\(refused)")
        #expect(refused.reason.contains("its own key provider"), "\(refused.reason)")
        #expect(try server.recordings(tenantID: own.id, callSid: "CA-o1").isEmpty)

        // The refusal's request (or a pass) opens its provider off the loops and prepares its day keys.
        let ready = try poll(timeout: .seconds(20)) { () throws -> Bool in server.dayKeys.isReady(try server.tenant(own.id)) }
        #expect(ready)
        #expect(server.opens.onLoop == 0 && server.opens.offLoop == 1, "opened once, off the loops")
        #expect(try server.call(token: own.token, callSid: "CA-o2").code == 1000)
        try await server.expectRecorded(tenantID: own.id, callSid: "CA-o2")
        #expect(try server.call(token: plain.token, callSid: "CA-p2").code == 1000)
        #expect(server.provider.offLoop > 0 && server.provider.onLoop == 0, "no provider call on an event loop")
        try await server.stop()
    }
}
