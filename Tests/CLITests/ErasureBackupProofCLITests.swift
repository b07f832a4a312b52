import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault subject erase` on a key provider, run as the real binary: a full backup of the data
/// directory taken before the erasure cannot decrypt the erased recording afterwards, while the same
/// day's other recordings still decrypt in the live directory.
@Suite(
    "subject erase is backup-proof on a key provider", .serialized, .timeLimit(.minutes(15)),
    .enabled(
        if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct ErasureBackupProofCLITests {
    @Test(arguments: ["pkcs11", "transit"])
    func aBackupTakenBeforeTheErasureCannotDecryptTheErasedRecording(kind: String) throws {
        let provider = try KeyProviderCLITests.provider(kind)
        defer { if let server = provider.server { _ = try? server.kill() } }
        let root = try TemporaryDirectory("erasure-cli")
        defer { root.remove() }
        let data = root.appending("data")
        func run(_ arguments: [String], in directory: String? = nil) throws -> ChildProcess.Output {
            try KeyProviderCLITests.run(arguments, data: directory ?? data, environment: provider.environment)
        }
        #expect(try run(["init"] + provider.initArguments).status == 0)
        let added = try run(["tenant", "add", "acme", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)

        // Two callers, recorded the same day (same retention: the same day key).
        let (erasedCaller, keptCaller) = ("+15550100111", "+15550100222")
        var recordings: [String: String] = [:]
        for caller in [erasedCaller, keptCaller] {
            let recorded = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1", "--caller", caller])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let first = try #require(recorded.stdout.split(separator: "\n").first)
            let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            recordings[caller] = try #require(opened["recordingId"] as? String)
        }
        let erasedID = try #require(recordings[erasedCaller])
        let keptID = try #require(recordings[keptCaller])

        let backup = root.appending("backup")
        let copied = try ChildProcess.run(URL(fileURLWithPath: "/bin/cp"), ["-a", data, backup])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(try run(["verify", erasedID], in: backup).status == 0, "the backup opens it before the erasure")

        let erased = try run(["subject", "erase", "--tenant", tenantID, "--phone", erasedCaller, "--json"])
        #expect(erased.status == 0, "\(erased.stdout) \(erased.stderr)")
        let receipt = try erased.json()
        #expect(receipt["recordingsErased"] as? [String] == [erasedID])
        #expect(receipt["backupProof"] as? Bool == true)
        #expect(receipt["dayKeysRegenerated"] as? Int == 1)
        #expect(receipt["dataKeysRewrapped"] as? Int == 1, "the other caller's recording")
        #expect(!erased.stdout.contains(erasedCaller) && !erased.stderr.contains(erasedCaller), "no phone number")

        // Live: the other caller's recording still decrypts; the erased one is gone.
        let kept = try run(["verify", keptID])
        #expect(kept.status == 0, "\(kept.stdout) \(kept.stderr)")
        // The backup, opened with the live provider, cannot decrypt the erased recording any more.
        let restored = try run(["verify", erasedID, "--json"], in: backup)
        // (The backup's catalog still lists it as complete: the key provider alone makes it unreadable.)
        let results = try #require(try restored.json()["recordings"] as? [[String: Any]])
        #expect(results.first?["status"] as? String == "shredded", "\(restored.stdout) \(restored.stderr)")
        // The price, documented in docs/key-providers.md: the backup's copy of the erased day's other keys
        // was wrapped by the same (now destroyed) day key, so a restore must take the live keys.sqlite.
        let sibling = try #require(try run(["verify", keptID, "--json"], in: backup).json()["recordings"] as? [[String: Any]])
        #expect(sibling.first?["status"] as? String == "shredded")

        let audit = try run(["audit", "list", "--json"])
        #expect(audit.status == 0)
        #expect(audit.stdout.contains("\"backupProof\" : \"true\"") || audit.stdout.contains("\"backupProof\":\"true\""),
            "the audit entry says so")
    }
}
