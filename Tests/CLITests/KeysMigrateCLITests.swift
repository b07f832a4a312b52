import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault keys migrate --to pkcs11|transit` on a local data directory with recordings, run as the
/// real binary against SoftHSM2 and an OpenBao dev server.
@Suite(
    "keys migrate moves a local directory into a key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(
        if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct KeysMigrateCLITests {
    @Test(arguments: ["pkcs11", "transit"])
    func aLocalDirectoryMovesIntoTheProviderAndKeepsEverySealedRecordingReadable(kind: String) throws {
        let provider = try KeyProviderCLITests.provider(kind)
        defer { if let server = provider.server { _ = try? server.kill() } }
        let root = try TemporaryDirectory("migrate-cli")
        defer { root.remove() }
        let data = root.appending("data")
        func run(_ arguments: [String]) throws -> ChildProcess.Output {
            try KeyProviderCLITests.run(arguments, data: data, environment: provider.environment)
        }
        #expect(try run(["init"]).status == 0)
        let added = try run(["tenant", "add", "acme", "--voice-days", "1", "--json"])
        let tenantID = try #require(try added.json()["id"] as? String)
        let recorded = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let first = try #require(recorded.stdout.split(separator: "\n").first)
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let recordingID = try #require(opened["recordingId"] as? String)

        let options = Array(provider.initArguments.dropFirst(2))  // without "--key-provider KIND"
        let usage = try run(["keys", "migrate", "--to", kind])
        #expect(usage.status == 2, "\(usage.stderr)")
        #expect(usage.stderr.contains(kind == "pkcs11" ? "--pkcs11-module" : "--transit-url"), "\(usage.stderr)")
        #expect(try run(["keys", "migrate", "--to", "local"]).status == 2)

        let migrated = try run(["keys", "migrate", "--to", kind, "--json"] + options)
        #expect(migrated.status == 0, "\(migrated.stdout) \(migrated.stderr)")
        let report = try migrated.json()
        #expect(report["dayKeysMigrated"] as? Int == 1 && report["dayKeysStillLocal"] as? Int == 0)
        #expect(report["from"] as? String == "local" && report["keyProvider"] as? String == kind)
        let settings = try String(contentsOfFile: data + "/key-provider.json", encoding: .utf8)
        #expect(settings.contains("\"kind\" : \"\(kind)\"") && !settings.contains(provider.secret))
        #expect(KeyProviderCLITests.mode(data + "/key-provider.json") == 0o600)

        // The recording sealed before the move decrypts through the provider now.
        let verified = try run(["verify", recordingID])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let again = try run(["keys", "migrate", "--to", kind, "--json"] + options)
        #expect(try again.json()["dayKeysMigrated"] as? Int == 0, "resumable and idempotent")
        #expect(try again.json()["dayKeysAlreadyInProvider"] as? Int == 1)
        let back = try run(["init"])
        #expect(back.status == 1, "init cannot move it back to local: \(back.stderr)")
        let other = kind == "pkcs11"
            ? ["keys", "migrate", "--to", "transit", "--transit-url", "http://127.0.0.1:1"]
            : ["keys", "migrate", "--to", "pkcs11", "--pkcs11-module", SoftHSMToken.modulePath, "--pkcs11-token", "x"]
        let moved = try KeyProviderCLITests.run(
            other, data: data,
            environment: provider.environment.merging(["CALLVAULT_TRANSIT_TOKEN": "t", "CALLVAULT_PKCS11_PIN": "1"]) { $1 })
        #expect(moved.status == 1 && moved.stderr.contains("not built"), "\(moved.stderr)")

        // Rotation: the tenant's day key replaced, the recording still verifies.
        let rotatedKeys = try run(["keys", "rotate", "--tenant", tenantID, "--json"])
        #expect(rotatedKeys.status == 0, "\(rotatedKeys.stderr)")
        #expect(try rotatedKeys.json()["dayKeysRotated"] as? Int == 1)
        #expect(try run(["verify", recordingID]).status == 0, "readable under the rotated key")
        let unknown = try run(["keys", "rotate", "--tenant", "nobody"])
        #expect(unknown.status == 1 && unknown.stderr.contains("nobody"), "\(unknown.stderr)")

        let audit = try run(["audit", "list"])
        #expect(audit.stdout.contains("keys.migration_started") && audit.stdout.contains("keys.migrated"))
        #expect(audit.stdout.contains("keys.rotated"))

        // Shredding now happens in the provider: after the sweep the recording is gone for good.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(5 * 86_400))
        let swept = try run(["sweep", "--once", "--now", later, "--json"])
        #expect(swept.status == 0, "\(swept.stderr)")
        #expect(try swept.json()["recordingsShredded"] as? [String] == [recordingID])
        #expect(try swept.json()["dayKeysDestroyed"] as? Int == 1)
    }
}
