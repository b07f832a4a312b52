import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault serve` on a PostgreSQL catalog whose server restarts in the middle of a call.
@Suite(
    "serve on PostgreSQL: the database restarts mid-call",
    .enabled(if: PostgresServer.canRunOrMustFail, Comment(rawValue: PostgresServer.skipReason)),
    .serialized, .timeLimit(.minutes(15)))
struct ServeOnPostgresRestartTests {
    @Test func aLiveCallKeepsRecordingThroughARestartAndANewCallIsRefusedClearlyWhileTheDatabaseIsDown() throws {
        let postgres = try PostgresServer.startPrivate()
        defer { postgres.remove() }
        let database = try postgres.createDatabase()
        let root = try TemporaryDirectory.make("serve-pg-restart")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let url = postgres.settings(database: database).url
        #expect(try ServeEndToEndTests.cli(["init", "--database", url], data: data).status == 0)
        let added = try ServeEndToEndTests.cli(["tenant", "add", "acme", "--consent-digit", "1", "--json"], data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])
        let token = try #require(object["token"] as? String)
        let server = try ServeProcess(data: data)
        defer { server.terminate() }

        // A call consents and records 2 s while the database is up.
        let call = try TestSocketClient(port: server.port)
        #expect(call.upgrade("/v1/twilio?token=\(token)") == 101)
        call.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-live"))
        call.sendFrame(opcode: 1, Array(#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#.utf8))
        for frame in 0..<100 { call.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }
        let opened = try poll(timeout: .seconds(30), interval: .milliseconds(100)) {
            try postgres.psql(database: database, "SELECT count(*) FROM recordings") == "1"
        }
        #expect(opened, "the live call's recording row")

        try postgres.stop()
        // A new call while the database is down: refused with the reason once the catalog's deadline (5 s)
        // passed, not left hanging: its token cannot be checked.
        let refused = try TestSocketClient(port: server.port, readTimeout: 30)
        let status = refused.upgrade("/v1/twilio?token=\(token)")
        #expect(status == 503, "a call start while the database is down got HTTP \(status)")
        // The live call goes on recording meanwhile: its frames are sealed into its file.
        for frame in 100..<250 { call.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55)) }

        try postgres.start()
        // The pool reconnects by itself; the call ends once the database is back.
        Thread.sleep(forTimeInterval: 3)
        call.sendFrame(opcode: 1, Array(#"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"CA-live"},"streamSid":"MZ1"}"#.utf8))
        var ended: (opcode: UInt8, payload: [UInt8])?
        for _ in 0..<12 where ended == nil { ended = call.readFrame() }
        #expect(ended?.opcode == 8, "the live call's close")
        #expect(try server.stop() == 0)

        let listed = try ServeEndToEndTests.cli(["recordings", "list", "--json"], data: data)
        let recordings = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["recordings"]
                as? [[String: Any]])
        #expect(recordings.count == 1)
        #expect(recordings.first?["state"] as? String == "complete", "\(recordings)")
        // Every frame from the tone on was kept: 250 frames of 20 ms, whole 1 s segments.
        #expect(recordings.first?["durationMs"] as? Int == 5000, "\(recordings)")
        #expect(try ServeEndToEndTests.cli(["audit", "verify"], data: data).status == 0)
    }
}
