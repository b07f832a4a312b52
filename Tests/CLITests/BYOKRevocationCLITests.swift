import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// Bring your own key: the customer runs the Transit engine and can take CallVault's access away
/// (revoke its token) or destroy its keys. Either makes the data unreadable to CallVault, fails closed
/// with the provider named, and never shows the token; a destroyed key is shredding for good.
@Suite(
    "a customer revoking its key makes its data unreadable to CallVault", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: Services.required || OpenBaoServer.binary != nil, "CALLVAULT_SKIP_SERVICES=1 and OpenBao is missing"))
struct BYOKRevocationCLITests {
    @Test func revokedTokenOrDestroyedKeyLeavesNothingReadableAndRecordsNothing() throws {
        let server = try OpenBaoServer()
        defer { _ = try? server.kill() }
        // CallVault's own token, a child of the customer's root token: the customer can revoke it.
        let token = try server.bao(["token", "create", "-field=token"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let root = try TemporaryDirectory("byok")
        defer { root.remove() }
        let data = root.appending("data")
        func run(_ arguments: [String], token: String) throws -> ChildProcess.Output {
            try KeyProviderCLITests.run(arguments, data: data, environment: ["CALLVAULT_TRANSIT_TOKEN": token])
        }
        #expect(try run(["init", "--key-provider", "transit", "--transit-url", server.url], token: token).status == 0)
        let added = try run(["tenant", "add", "acme", "--json"], token: token)
        let tenantID = try #require(try added.json()["id"] as? String)
        let recorded = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1"], token: token)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let first = try #require(recorded.stdout.split(separator: "\n").first)
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let recordingID = try #require(opened["recordingId"] as? String)
        #expect(try run(["verify", recordingID], token: token).status == 0)
        let sealedFiles = { () -> Int in
            (FileManager.default.enumerator(atPath: data + "/recordings")?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".cvr") }.count
        }
        #expect(sealedFiles() == 1)

        // The customer revokes CallVault's token.
        try server.bao(["token", "revoke", token])
        let unreadable = try run(["verify", recordingID], token: token)
        #expect(unreadable.status == 1, "\(unreadable.stdout) \(unreadable.stderr)")
        #expect((unreadable.stdout + unreadable.stderr).contains("transit"), "\(unreadable.stdout) \(unreadable.stderr)")
        #expect(!unreadable.stdout.contains("tampered"), "a revoked key is not tampering")
        #expect(!(unreadable.stdout + unreadable.stderr).contains(token), "never the token")
        let refused = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1"], token: token)
        #expect(refused.status != 0, "no new recording without the customer's key: \(refused.stdout)")
        #expect(!refused.stderr.contains(token))
        #expect(sealedFiles() == 1, "nothing was sealed (or written in plaintext) without the key")

        // Access restored, then the customer destroys the key: that is shredding, for good.
        let restored = try server.bao(["token", "create", "-field=token"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(["verify", recordingID], token: restored).status == 0, "readable again with access")
        let listed = try server.bao(["list", "-format=json", "transit/keys"]).stdout
        let names = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String])
        let name = try #require(names.first { $0.hasPrefix("cv.\(tenantID).voice.") })
        try server.bao(["delete", "transit/keys/\(name)"])
        let gone = try run(["verify", recordingID, "--json"], token: restored)
        let results = try #require(try gone.json()["recordings"] as? [[String: Any]])
        #expect(results.first?["status"] as? String == "shredded", "\(gone.stdout) \(gone.stderr)")
    }
}
