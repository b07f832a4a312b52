import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// The console's live page on a real `serve --console`, with a Twilio call streamed through the real
/// ingest socket: this node's calls come from serve's own live-call registry, exact to the frame
/// (consent gate, frames in and recorded per track), tenant-scoped; other live calls from the catalog.
@Suite("Console live calls on a real serve", .serialized, .timeLimit(.minutes(15)))
struct ConsoleLiveServeTests {
    /// Cheap scrypt for a test operator (the hash records its parameters).
    static let password = "correct horse battery staple"

    /// Signs in over the console's socket; returns the session cookie.
    static func signIn(port: Int, name: String) throws -> String {
        let form = try #require(TestSocketClient(port: port).request("GET", "/login"))
        let loginCookie = try #require(
            form.headerLines.first { $0.name == "set-cookie" && $0.value.hasPrefix("cv_login=") }?.value.split(
                separator: ";"
            ).first
        )
        let csrf = try #require(form.body.range(of: "name=\"csrf\" value=\"")).upperBound
        let token = String(form.body[csrf...].prefix { $0 != "\"" })
        let body = "csrf=\(token)&name=\(name)&password=\(password.replacingOccurrences(of: " ", with: "+"))"
        let signedIn = try #require(
            TestSocketClient(port: port).request(
                "POST",
                "/login",
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": String(loginCookie)],
                body: body
            )
        )
        #expect(signedIn.status == 303, "\(signedIn)")
        let session = try #require(
            signedIn.headerLines.first { $0.name == "set-cookie" && $0.value.hasPrefix("cv_session=") }?.value.split(
                separator: ";"
            ).first
        )
        return String(session)
    }

    /// Polls `/live` until `done` holds for its HTML; returns the last page.
    static func live(port: Int, cookie: String, until done: (String) -> Bool) throws -> String {
        var page = ""
        _ = try poll(timeout: .seconds(15), interval: .milliseconds(100)) {
            page = try TestSocketClient(port: port).request("GET", "/live", headers: ["Cookie": cookie])?.body ?? ""
            return done(page)
        }
        return page
    }

    @Test func theLivePageShowsThisNodesCallsExactToTheFrameAndTheCatalogsOthers() throws {
        let root = try TemporaryDirectory.make("console-live-serve")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        #expect(try ServeEndToEndTests.cli(["init"], data: data).status == 0)
        var tenants: [String: (id: String, token: String)] = [:]
        for (name, options) in [("acme", ["--consent-digit", "1"]), ("other", ["--consent", "not-required"])] {
            let added = try ServeEndToEndTests.cli(["tenant", "add", name, "--json"] + options, data: data)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])
            tenants[name] = (try #require(object["id"] as? String), try #require(object["token"] as? String))
        }
        let acme = try #require(tenants["acme"]), other = try #require(tenants["other"])
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let hash = try PasswordHash(hashing: Self.password, parameters: Scrypt.Parameters(n: 1 << 10, r: 8, p: 1))
            .encoded
        _ = try catalog.addOperator(
            name: "olive",
            passwordHash: hash,
            globalAdmin: false,
            roles: [acme.id: .viewer],
            actor: "test",
            at: Date()
        )
        // A live call of acme that no stream of this node carries: the catalog's view shows it.
        _ = try catalog.registerCall(
            tenantID: acme.id,
            externalID: "CA-ELSEWHERE",
            callerNumber: nil,
            startedAt: Date(),
            actor: "test",
            callerKeys: nil
        )

        let server = try ServeProcess(data: data, extra: ["--console", "127.0.0.1:0"])
        defer { server.terminate() }
        let consolePort = try #require(server.consolePort)
        let cookie = try Self.signIn(port: consolePort, name: "olive")

        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(acme.token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-LIVE"))
        let foreign = try TestSocketClient(port: server.port)
        #expect(foreign.upgrade("/v1/twilio?token=\(other.token)") == 101)
        foreign.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-FOREIGN"))
        for frame in 0..<100 {
            for track in ["inbound", "outbound"] {
                ws.sendFrame(opcode: 1, ServeEndToEndTests.media(track, frame: frame, fill: 0x55))
            }
            foreign.sendFrame(opcode: 1, ServeEndToEndTests.media("inbound", frame: frame, fill: 0x55))
        }
        // Before consent: every frame counted in, none recorded, the gate waiting.
        var page = try Self.live(port: consolePort, cookie: cookie) {
            $0.contains("caller: 100 in, 0 recorded<br>bot: 100 in")
        }
        #expect(page.contains("caller: 100 in, 0 recorded<br>bot: 100 in, 0 recorded"), "\(page)")
        #expect(page.contains("<td>twilio</td><td>waiting for consent (opt-in); not writing frames</td>"), "\(page)")
        #expect(page.contains(">CA-LIVE</a>") && !page.contains("CA-FOREIGN"), "the operator's tenant only")
        let catalogSection = try #require(page.range(of: "From the catalog")).upperBound
        #expect(
            page[catalogSection...].contains("CA-ELSEWHERE") && !page[catalogSection...].contains("CA-LIVE"),
            "\(page)"
        )

        // The consent key, then 50 frames a track: exactly those are recorded.
        ws.sendFrame(
            opcode: 1,
            Array(
                #"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"300","dtmf":{"track":"inbound_track","digit":"1"}}"#
                    .utf8
            )
        )
        for frame in 100..<150 {
            for track in ["inbound", "outbound"] {
                ws.sendFrame(opcode: 1, ServeEndToEndTests.media(track, frame: frame, fill: 0x55))
            }
        }
        // (Frames are counted in as they arrive, recorded once written: the first admitted frame of each
        // track waits for its recording row, so the two meet a moment later.)
        page = try Self.live(port: consolePort, cookie: cookie) { $0.contains("bot: 150 in, 50 recorded") }
        #expect(page.contains("caller: 150 in, 50 recorded<br>bot: 150 in, 50 recorded"), "\(page)")
        #expect(page.contains("<td>recording (opt-in); writing frames</td>"), "\(page)")

        for client in [ws, foreign] {
            client.sendFrame(
                opcode: 1,
                Array(
                    #"{"event":"stop","sequenceNumber":"999","stop":{"accountSid":"AC1","callSid":"CA"},"streamSid":"MZ1"}"#
                        .utf8
                )
            )
            _ = client.readFrame()
        }
        page = try Self.live(port: consolePort, cookie: cookie) { !$0.contains("CA-LIVE") }
        #expect(!page.contains("CA-LIVE"), "an ended call leaves both views")
        #expect(try server.stop() == 0)
    }
}
