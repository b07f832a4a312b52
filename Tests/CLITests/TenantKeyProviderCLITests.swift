import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `tenant add --key-provider`: one tenant brings its own key (its own OpenBao Transit) into a data
/// directory whose other tenants stay local. Its provider going down fails that tenant only.
@Suite(
    "a tenant with its own key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || OpenBaoServer.binary != nil, "CALLVAULT_SKIP_SERVICES=1 and OpenBao is missing"))
struct TenantKeyProviderCLITests {
    @Test func oneTenantsOwnTransitWrapsOnlyItsKeysAndItsOutageFailsOnlyIt() throws {
        let server = try OpenBaoServer()
        defer { _ = try? server.kill() }
        let root = try TemporaryDirectory("tenant-provider")
        defer { root.remove() }
        let data = root.appending("data")
        let tokenFile = root.appending("acme-token")
        try "\(server.token)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        #expect(chmod(tokenFile, 0o600) == 0)
        func run(_ arguments: [String]) throws -> ChildProcess.Output {
            try KeyProviderCLITests.run(arguments, data: data, environment: [:])
        }
        #expect(try run(["init"]).status == 0)

        let noFile = try run(["tenant", "add", "acme", "--key-provider", "transit", "--transit-url", server.url])
        #expect(noFile.status == 2 && noFile.stderr.contains("--transit-token-file"), "\(noFile.stderr)")
        let unreachable = try run([
            "tenant", "add", "acme", "--key-provider", "transit", "--transit-url", "http://127.0.0.1:9",
            "--transit-token-file", tokenFile,
        ])
        #expect(unreachable.status == 1, "\(unreachable.stderr)")
        #expect(try run(["tenant", "list", "--json"]).stdout.contains("acme") == false, "nothing added")

        let acme = try run([
            "tenant", "add", "acme", "--key-provider", "transit", "--transit-url", server.url,
            "--transit-token-file", tokenFile, "--json",
        ])
        #expect(acme.status == 0, "\(acme.stderr)")
        let acmeID = try #require(try acme.json()["id"] as? String)
        let globex = try run(["tenant", "add", "globex", "--json"])
        let globexID = try #require(try globex.json()["id"] as? String)
        let settings = try String(contentsOfFile: data + "/key-provider.json", encoding: .utf8)
        #expect(settings.contains(acmeID) && settings.contains("\"version\" : 2") && !settings.contains(server.token))

        func record(_ tenant: String) throws -> (ChildProcess.Output, String?) {
            let recorded = try run(["_record-sample", "--tenant", tenant, "--seconds", "1"])
            guard let first = recorded.stdout.split(separator: "\n").first,
                let opened = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any]
            else { return (recorded, nil) }
            return (recorded, opened["recordingId"] as? String)
        }
        let (_, acmeRecording) = try record(acmeID)
        let (_, globexRecording) = try record(globexID)
        let acmeRecordingID = try #require(acmeRecording)
        let globexRecordingID = try #require(globexRecording)
        #expect(try run(["verify", acmeRecordingID]).status == 0)
        #expect(try run(["verify", globexRecordingID]).status == 0)
        let keys = try server.bao(["list", "-format=json", "transit/keys"]).stdout
        #expect(keys.contains("cv.\(acmeID).voice.") && !keys.contains(globexID), "only acme's day key is in its Transit")

        // Acme's provider goes down: acme's recordings cannot be read or made; globex goes on.
        try server.kill()
        let acmeDown = try run(["verify", acmeRecordingID])
        #expect(acmeDown.status == 1, "\(acmeDown.stdout) \(acmeDown.stderr)")
        #expect(acmeDown.stdout.contains("unavailable") && acmeDown.stdout.contains(acmeID), "\(acmeDown.stdout)")
        #expect(!acmeDown.stdout.contains("tampered"), "an outage is not tampering")
        #expect(!(acmeDown.stdout + acmeDown.stderr).contains(server.token))
        let (refused, _) = try record(acmeID)
        #expect(refused.status != 0, "acme records nothing without its key")
        #expect(try run(["verify", globexRecordingID]).status == 0, "globex is not touched")
        let (globexAgain, globexSecond) = try record(globexID)
        #expect(globexAgain.status == 0 && globexSecond != nil, "\(globexAgain.stderr)")

        // A tenant with day keys cannot be moved to another provider.
        let moved = try run([
            "tenant", "set", acmeID, "--key-provider", "transit", "--transit-url", "http://127.0.0.1:9",
            "--transit-token-file", tokenFile,
        ])
        #expect(moved.status == 1, "\(moved.stderr)")
    }
}
