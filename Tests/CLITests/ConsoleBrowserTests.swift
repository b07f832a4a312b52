import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// The web console end to end in a real headless Chromium: a real `serve --console` on 127.0.0.1 with a
/// call streamed through the ingest socket (consent by DTMF at 3 s, both tracks) and transcribed, two
/// operators made with `callvault operator add`, and `Tests/Browser/console_browser_test.py` (Selenium)
/// signing in, finding the call, reading its consent timeline and transcript, playing it, checking the
/// audit log and chain, URL tampering, CSRF, a viewer's refusal and login throttling. Its screenshots go
/// to `docs/console/` (shown by docs/console.md) when `CALLVAULT_UPDATE_SCREENSHOTS=1`.
@Suite(.timeLimit(.minutes(15))) struct ConsoleBrowserTests {
    static let environment = ProcessInfo.processInfo.environment
    static let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
    static let python = environment["CALLVAULT_TEST_SELENIUM_PYTHON"] ?? cache + "/callvault/chromium/venv/bin/python"
    static let chromium = environment["CALLVAULT_TEST_CHROMIUM"] ?? "/usr/bin/chromium"
    static let chromedriver = environment["CALLVAULT_TEST_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    static var installed: Bool {
        [python, chromium, chromedriver].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(
        .enabled(
            if: Services.required || installed,
            "CALLVAULT_SKIP_SERVICES=1 and Chromium, chromedriver or Selenium is missing (scripts/services install chromium)"))
    func anOperatorFindsPlaysAndAuditsACallInARealBrowser() throws {
        try #require(
            Self.installed,
            "Chromium, chromedriver or Selenium is missing: run `scripts/services install chromium` (or set CALLVAULT_SKIP_SERVICES=1 to skip)")
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-console-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let data = temp + "/data"
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        let demo = try cli.run(["tenant", "add", "demo", "--consent-digit", "1", "--json"]).json()
        let other = try cli.run(["tenant", "add", "other", "--consent-digit", "1", "--json"]).json()
        let demoToken = try #require(demo["token"] as? String)
        let otherToken = try #require(other["token"] as? String)

        // A call per tenant through the real ingest socket, then a clean stop (recordings complete, jobs queued).
        var serve = try ChildProcess(executable, ["serve", "--http", "127.0.0.1:0"], environment: ["CALLVAULT_DATA": data])
        var line = try serve.waitForLine("the listening line", timeout: .seconds(60)) { $0.hasPrefix("listening ") }
        let http = try #require(Self.field("http", in: line))
        // The demo call is registered with its caller's number first (as a platform does), so the admin can
        // find it by that number on the data-subject requests page.
        let registered = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            [
                "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://\(http)/v1/calls",
                "-H", "Authorization: Bearer \(demoToken)", "-d", #"{"callId":"CA-demo-1","from":"\#(Self.callerNumber)"}"#,
            ],
            timeout: .seconds(30))
        #expect(registered.stdout == "201", "\(registered.stderr)")
        // The demo call in real time (46 s), so that its clock times and its media timeline agree as on a
        // real call and the timeline picture shows what a real one would; the other tenant's as fast as possible.
        for (token, prefix, pacing) in [(demoToken, "CA-demo", ["--realtime"]), (otherToken, "CA-other", [])] {
            let simulated = try cli.run([
                "simulate", "--url", "ws://\(http)/v1/twilio", "--token", token, "--file", Repository.sample("caller.flac"),
                "--bot-file", Repository.sample("bot.flac"), "--consent-at", "3", "--call-prefix", prefix,
            ] + pacing)
            #expect(simulated.status == 0, "\(simulated.stderr)")
        }
        #expect(try serve.stop().status == 0)
        let transcribed = try cli.run(["transcribe", "--pending", "--engine", "pocketsphinx"])
        #expect(transcribed.status == 0, "\(transcribed.stderr)")

        let agent = try cli.run(["operator", "add", "agent-a", "--tenant", "demo", "--role", "agent", "--json"]).json()
        let viewer = try cli.run(["operator", "add", "viewer-a", "--tenant", "demo", "--role", "viewer", "--json"]).json()
        let admin = try cli.run(["operator", "add", "admin-a", "--tenant", "demo", "--role", "admin", "--json"]).json()
        let adminPassword = try #require(admin["password"] as? String)
        let agentPassword = try #require(agent["password"] as? String)
        let viewerPassword = try #require(viewer["password"] as? String)
        let catalog = try Catalog(directory: data)
        let otherCall = try #require(try catalog.calls(externalID: "CA-other-1").first)

        serve = try ChildProcess(
            executable, ["serve", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"], environment: ["CALLVAULT_DATA": data])
        line = try serve.waitForLine("the listening line", timeout: .seconds(60)) { $0.hasPrefix("listening ") }
        let console = try #require(Self.field("console", in: line), "no console= in \(line)")
        #expect(console.hasPrefix("http://127.0.0.1:"))

        // The screenshots in docs/console.md are refreshed with CALLVAULT_UPDATE_SCREENSHOTS=1; otherwise they
        // are taken into the test's own folder, so a test run leaves the work tree as it was.
        let screenshots =
            ProcessInfo.processInfo.environment["CALLVAULT_UPDATE_SCREENSHOTS"] == "1"
            ? Repository.root + "/docs/console" : temp + "/screenshots"
        try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
        let browser = try ChildProcess.run(
            URL(fileURLWithPath: Self.python), [Repository.root + "/Tests/Browser/console_browser_test.py"],
            environment: [
                "CONSOLE_URL": console, "AGENT_NAME": "agent-a", "AGENT_PASSWORD": agentPassword, "VIEWER_NAME": "viewer-a",
                "VIEWER_PASSWORD": viewerPassword, "CALL_EXTERNAL_ID": "CA-demo-1", "OTHER_CALL_ID": otherCall.id,
                "ADMIN_NAME": "admin-a", "ADMIN_PASSWORD": adminPassword, "CALLER_NUMBER": Self.callerNumber,
                "CALLVAULT_BIN": executable.path, "CALLVAULT_DATA": data, "DOWNLOADS": temp + "/downloads",
                "SCREENSHOTS": screenshots, "CALLVAULT_TEST_CHROMIUM": Self.chromium,
                "CALLVAULT_TEST_CHROMEDRIVER": Self.chromedriver,
            ],
            timeout: .seconds(400))
        print(browser.stdout)
        #expect(browser.status == 0, "browser checks failed:\n\(browser.stdout)\n\(browser.stderr.suffix(3000))")
        #expect(try serve.stop().status == 0)

        // The playback's audit entries, read from the catalog itself.
        let entries = try catalog.auditLog.entries()
        let decrypted = entries.filter { $0.action == .recordingDecrypted && $0.actor == "console:agent-a" }
        #expect(decrypted.count == 2, "one recording.decrypted per track")
        #expect(decrypted.allSatisfy { $0.detailValues["reason"] == "customer complaint 4711" })
        #expect(entries.contains { $0.action == .transcriptDecrypted && $0.actor == "console:viewer-a" })
        #expect(!entries.contains { $0.actor == "console:viewer-a" && $0.action == .recordingDecrypted })
        // The admin's subject export and erasure, audited as such.
        #expect(entries.contains { $0.action == .subjectExported && $0.actor == "console:admin-a" })
        #expect(entries.contains { $0.action == .subjectErased && $0.actor == "console:admin-a" })
        #expect(try catalog.calls(externalID: "CA-demo-1").first.map { try catalog.recordings(inCalls: [$0.id]) }?
            .allSatisfy { $0.state == .shredded } == true)
        // Nothing secret in the server's log: no password, no session cookie, no caller number.
        #expect(!serve.stderr.contains(agentPassword) && !serve.stderr.contains("cv_session"))
        #expect(!serve.stderr.contains(Self.callerNumber) && !serve.stderr.contains(adminPassword))
    }

    /// The demo caller's number (a reserved UK drama number).
    static let callerNumber = "+447700900123"

    /// `NAME=VALUE` from the `listening` line.
    static func field(_ name: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}
