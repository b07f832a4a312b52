import CallVaultArchive
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import CallVaultTestSupport
import Testing

@testable import CallVaultIngest

/// The scenario of issue 21 over a real socket: another connection holds the catalog's write lock
/// (a slow disk, a failover) while the caller presses the consent key. No audio may be kept without
/// stored evidence; the sender is told; once a consent is stored the call records normally.
@Suite("Evidence before consent, over a real socket", .timeLimit(.minutes(15)))
struct EvidenceUnderFailureTests {
    @Test func aConsentKeyPressedWhileTheCatalogIsLockedRecordsNothingUntilAConsentIsStored() async throws {
        let server = try await EvidenceServer.start()
        defer { try? FileManager.default.removeItem(atPath: server.root) }
        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(server.token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-lock"))
        for frame in 0..<50 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }

        // The call is registered (a write) before the lock is taken: required, or the test would lock the
        // catalog under the registration and test something else (a full run on 2 cores can take a minute).
        let registered = await eventually(timeout: .seconds(120)) {
            (try? server.catalog.call(tenantID: server.tenantID, externalID: "CA-lock")) != nil
        }
        try #require(registered, "the call was not registered within 120 s")
        let lock = try CatalogWriteLock(path: server.catalog.path)
        ws.sendFrame(opcode: 1, ServeLimitsTests.consent)
        #expect(await server.logs.wait(for: "consent event not applied: evidence not stored"), "the DTMF consent failed")
        for frame in 50..<100 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        // The control API is answered with the real reason, and the event changes nothing.
        let control = try TestSocketClient(port: server.port)
        let refused = try #require(
            control.http(
                "POST", "/v1/calls/CA-lock/events", headers: ["Authorization": "Bearer \(server.token)"],
                body: #"{"type":"consent","method":"api"}"#))
        #expect(refused.status == 503, "\(refused)")
        #expect(refused.body.contains("could not be stored") && refused.body.contains("database is locked"), "\(refused.body)")
        try lock.release()

        for frame in 100..<150 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        // Nothing to revoke: the gate refuses it (409), and it is not stored.
        let revoke = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls/CA-lock/events", headers: ["Authorization": "Bearer \(server.token)"],
                body: #"{"type":"revoke"}"#))
        #expect(revoke.status == 409 && revoke.body.contains("no consent to revoke"), "\(revoke)")
        // A consent key pressed now is stored, and the call records from the next frame on.
        ws.sendFrame(opcode: 1, ServeLimitsTests.consent)
        for frame in 150..<200 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
        let close = try #require(ws.readFrame())
        #expect(close.opcode == 8 && TestSocketClient.closeCode(close.payload).code == 1000)
        try await server.stop()

        let call = try #require(try server.catalog.call(tenantID: server.tenantID, externalID: "CA-lock"))
        let events = try server.catalog.consentEvents(callID: call.id)
        #expect(events.map(\.kind) == [.consent] && events.map(\.method) == [.dtmf])
        #expect(events.first?.timelineMs == 3000, "the consent stored after frame 149")
        let recordings = try server.catalog.recordingSummaries(callID: call.id)
        #expect(recordings.count == 1 && recordings.first?.state == .complete)
        #expect(recordings.first?.durationMs == 1000, "only frames 150..<200 were kept")
        let export = try await RecordingExporter(
            catalog: server.catalog, keyStore: server.keyStore, dataDirectory: server.directory,
            payloadFormat: SegmentPayload.format
        ).export(recordingID: try #require(recordings.first?.id), actor: "test", onTimeline: true)
        #expect(export.samples.count == 200 * 160 && export.samples[..<(150 * 160)].allSatisfy { $0 == 0 })
        #expect(try server.catalog.auditLog.verify().isIntact)
        #expect(!server.logs.all.contains { $0.contains(server.token) }, "no token in the log")
    }
}

extension EvidenceUnderFailureTests {
    @Test func aCatalogThatCannotAnswerIsAServerErrorWithItsReasonNeverAnUnknownToken() async throws {
        let server = try await EvidenceServer.start()
        defer { try? FileManager.default.removeItem(atPath: server.root) }
        // A damaged catalog: tokens cannot be looked up at all.
        let other = try DatabaseQueue(path: server.catalog.path)
        try await other.write { db in try db.execute(sql: "ALTER TABLE tenants RENAME TO tenants_lost") }

        let upgrade = try TestSocketClient(port: server.port)
        #expect(upgrade.upgrade("/v1/twilio?token=\(server.token)") == 503, "the upgrade is refused as unavailable")
        let api = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls", headers: ["Authorization": "Bearer \(server.token)"], body: #"{"callId":"X"}"#))
        #expect(api.status == 503 && api.body.contains("no such table"), "\(api)")
        // A token in Twilio's `start` message: the stream is closed as a server error, with the reason.
        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio") == 101)
        var start = String(decoding: ServeEndToEndTests.start(callSid: "CA-x"), as: UTF8.self)
        start = start.replacingOccurrences(of: #""customParameters":{}"#, with: #""customParameters":{"token":"\#(server.token)"}"#)
        ws.sendFrame(opcode: 1, Array(start.utf8))
        let close = TestSocketClient.closeCode(try #require(ws.readFrame()).payload)
        #expect(close.code == 1011 && close.reason.contains("catalog is unavailable"), "\(close)")
        try await server.stop()
    }
}

/// An in-process `serve` (real Twilio sessions, control API, flush group) over a catalog whose writes
/// give up on a held lock after `busyTimeout` (0.3 s unless told), with its log captured.
struct EvidenceServer {
    let root: String
    let directory: DataDirectory
    let catalog: Catalog
    let keyStore: KeyStore
    let tenantID: String
    let token: String
    let port: Int
    let logs: CapturedLog
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(
        busyTimeout: TimeInterval = 0.3, policy: TenantPolicy = TenantPolicy(consentDigit: "1")
    ) async throws -> EvidenceServer {
        var template = Array("/tmp/callvault-evidence-test-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        let directory = DataDirectory(path: root + "/data")
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        let logs = CapturedLog()
        let logger = logs.logger()
        let keyStore = try KeyStore(dataDirectory: directory, logger: logger)
        let catalog = try Catalog(directory: directory.path, busyTimeout: busyTimeout)
        let added = try catalog.addTenant(name: "acme", policy: policy)
        try keyStore.createTenant(added.tenant.id)
        let flushGroup = FlushGroup(interval: .milliseconds(100), catalog: catalog, logger: logger)
        let liveCalls = LiveCallRegistry()
        let context = IngestContext(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: flushGroup,
            liveCalls: liveCalls, logger: logger)
        let api = ControlAPI(
            catalog: catalog, liveCalls: liveCalls, logger: logger,
            botUtterances: BotUtteranceVault(catalog: catalog, keyStore: keyStore))
        let server = IngestServer(
            configuration: .init(host: "127.0.0.1", port: 0), api: api, logger: logger,
            makeSession: context.mediaSessions)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        let port = try await server.localAddress().port ?? 0
        return EvidenceServer(
            root: root, directory: directory, catalog: catalog, keyStore: keyStore, tenantID: added.tenant.id,
            token: added.token, port: port, logs: logs, group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
