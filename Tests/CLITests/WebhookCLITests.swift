import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `tenant add|set --webhook-…` and `webhooks list|redeliver`, and the outbox row's atomicity with the
/// change it reports (`kill -9` at the `webhook.queued` failpoint leaves neither).
@Suite("Webhook CLI", .serialized, .timeLimit(.minutes(15)))
struct WebhookCLITests {
    static func initialised(_ root: TemporaryDirectory) throws -> (String, CatalogCLIProcess) {
        let data = root.appending("data")
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: data)
        #expect(try cli.run(["init"]).status == 0)
        return (data, cli)
    }

    @Test func theSecretIsShownOnceRotatedWithAnOverlapAndTheSSRFGuardRefusesPrivateTargets() throws {
        let root = try TemporaryDirectory("webhook-cli")
        defer { root.remove() }
        let (data, cli) = try Self.initialised(root)

        // A loopback target without --webhook-allow-private, or plain http to a public name: refused, no tenant.
        let loopback = try cli.run(["tenant", "add", "acme", "--webhook-url", "https://127.0.0.1:8443/hooks"])
        #expect(loopback.status == 2 && loopback.stderr.contains("SSRF guard"), "\(loopback.stderr)")
        let plain = try cli.run(["tenant", "add", "acme", "--webhook-url", "http://hooks.example.com/x"])
        #expect(plain.status == 2 && plain.stderr.contains("https://"), "\(plain.stderr)")
        #expect((try cli.run(["tenant", "list", "--json"]).json()["tenants"] as? [Any])?.isEmpty == true)

        let added = try cli.run([
            "tenant", "add", "acme", "--webhook-url", "http://127.0.0.1:9/hooks", "--webhook-allow-private", "--json",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        let object = try added.json()
        let id = try #require(object["id"] as? String)
        let first = try #require(object["webhookSecret"] as? String)
        #expect(first.hasPrefix("whsec_") && Data(base64Encoded: String(first.dropFirst(6)))?.count == 32)
        #expect(object["webhookAllowPrivate"] as? Bool == true)
        // Shown once: `show` has the URL, never the secret; the catalog keeps it only wrapped.
        let shown = try cli.run(["tenant", "show", id, "--json"])
        #expect(shown.stdout.contains("127.0.0.1:9/hooks") && !shown.stdout.contains("whsec_"))
        let catalogBytes = try Data(contentsOf: URL(fileURLWithPath: DataDirectory(path: data).catalogPath))
        #expect(
            catalogBytes.range(of: Data(base64Encoded: String(first.dropFirst(6)))!) == nil,
            "the raw secret is not in the catalog"
        )

        let rotated = try cli.run(["tenant", "set", id, "--rotate-webhook-secret", "--json"]).json()
        let second = try #require(rotated["webhookSecret"] as? String)
        #expect(second != first && rotated["webhookPreviousSecretUntil"] != nil)
        let text = try cli.run(["tenant", "set", id, "--rotate-webhook-secret"])
        #expect(text.stdout.contains("webhook-secret") && text.stdout.contains("shown once"))
        // Changing only the URL keeps the secret (nothing shown).
        let moved = try cli.run(["tenant", "set", id, "--webhook-url", "http://127.0.0.1:10/hooks", "--json"]).json()
        #expect(moved["webhookSecret"] == nil && moved["webhookUrl"] as? String == "http://127.0.0.1:10/hooks")
        // Dropping the allowance for a loopback URL is refused by the guard.
        let dropped = try cli.run(["tenant", "set", id, "--no-webhook-allow-private"])
        #expect(dropped.status == 2, "\(dropped.stderr)")
        let removed = try cli.run(["tenant", "set", id, "--webhook-url", "none", "--json"]).json()
        #expect(removed["webhookUrl"] == nil)
        let audit = try cli.run(["audit", "list", "--json"]).stdout
        #expect(audit.contains("webhook.configured") && audit.contains("webhook.removed") && !audit.contains("whsec_"))
    }

    @Test func anOutboxRowCommitsWithItsChangeOrNeitherDoesAndCanBeListedAndRedelivered() throws {
        let root = try TemporaryDirectory("webhook-atomic")
        defer { root.remove() }
        let (data, cli) = try Self.initialised(root)
        let id = try #require(
            try cli.run([
                "tenant", "add", "acme", "--webhook-url", "http://127.0.0.1:9/h", "--webhook-allow-private", "--json",
            ])
            .json()["id"] as? String
        )
        let executable = try #require(Repository.callvault)

        // Killed after the call.started row was written, before its transaction committed: no call, no row.
        let killed = try ChildProcess.run(
            executable,
            ["_record-sample", "--tenant", id, "--seconds", "1"],
            environment: ["CALLVAULT_DATA": data, "CALLVAULT_FAILPOINTS": Failpoint.webhookQueued.rawValue],
            timeout: .seconds(60)
        )
        #expect(killed.signalled && killed.status == SIGKILL, "\(killed.stderr)")
        let catalog = try Catalog(path: DataDirectory(path: data).catalogPath)
        #expect(try catalog.callSummaries().isEmpty, "the call rolled back with its event")
        #expect((try cli.run(["webhooks", "list", "--json"]).json()["webhooks"] as? [Any])?.isEmpty == true)

        // Without the failpoint both commit.
        let recorded = try ChildProcess.run(
            executable,
            ["_record-sample", "--tenant", id, "--seconds", "1"],
            environment: ["CALLVAULT_DATA": data],
            timeout: .seconds(60)
        )
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(try catalog.callSummaries().count == 1)
        let rows = try #require(
            try cli.run(["webhooks", "list", "--tenant", id, "--json"]).json()["webhooks"] as? [[String: Any]]
        )
        #expect(rows.last?["type"] as? String == "call.started", "\(rows)")
        #expect(rows.allSatisfy { $0["state"] as? String == "pending" })
        let table = try cli.run(["webhooks", "list", "--state", "pending"]).stdout
        #expect(table.contains("call.started") && table.contains("TYPE"))
        let pendingID = try #require(rows.last?["id"] as? String)
        let notYet = try cli.run(["webhooks", "redeliver", pendingID])
        #expect(notYet.status == 2 && notYet.stderr.contains("still pending"), "\(notYet.stderr)")
        #expect(try cli.run(["webhooks", "list", "--state", "bogus"]).status == 2)
        // Removing the endpoint dead-letters them; they can be redelivered (after setting one again).
        #expect(try cli.run(["tenant", "set", id, "--webhook-url", "none"]).status == 0)
        #expect(
            (try cli.run(["webhooks", "list", "--state", "dead", "--json"]).json()["webhooks"] as? [Any])?.count
                == rows.count
        )
        let again = try cli.run(["webhooks", "redeliver", pendingID])
        #expect(again.status == 0 && again.stdout.contains("pending"), "\(again.stderr)")
    }
}
