import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault init --key-provider pkcs11|transit` and the life of a recording on it, run as the real
/// binary against SoftHSM2 and an OpenBao dev server.
@Suite(
    "init --key-provider and every command on it", .serialized, .timeLimit(.minutes(15)),
    .enabled(
        if: Services.required || (SoftHSMToken.isInstalled && OpenBaoServer.binary != nil),
        "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 or OpenBao is missing"))
struct KeyProviderCLITests {
    /// The child's environment for a provider (module configuration and secret), and init's options.
    struct Provider {
        let environment: [String: String]
        let initArguments: [String]
        let secret: String
        let server: OpenBaoServer?
    }

    static func provider(_ kind: String) throws -> Provider {
        if kind == "pkcs11" {
            if let reason = SoftHSMToken.unavailableReason { Issue.record(Comment(rawValue: reason)) }
            let conf = try SoftHSMToken.prepare()
            return Provider(
                environment: ["SOFTHSM2_CONF": conf, "CALLVAULT_PKCS11_PIN": SoftHSMToken.pin],
                initArguments: [
                    "--key-provider", "pkcs11", "--pkcs11-module", SoftHSMToken.modulePath, "--pkcs11-token",
                    SoftHSMToken.label,
                ],
                secret: SoftHSMToken.pin, server: nil)
        }
        let server = try OpenBaoServer()
        return Provider(
            environment: ["CALLVAULT_TRANSIT_TOKEN": server.token],
            initArguments: ["--key-provider", "transit", "--transit-url", server.url],
            secret: server.token, server: server)
    }

    static func run(
        _ arguments: [String], data: String, environment: [String: String]
    ) throws -> ChildProcess.Output {
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        return try ChildProcess.run(
            executable, arguments, environment: environment.merging(["CALLVAULT_DATA": data]) { $1 },
            timeout: .seconds(120))
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o777
    }

    @Test(arguments: ["pkcs11", "transit"])
    func recordExportSweepAndABackupCannotDecryptTheShreddedRecording(kind: String) throws {
        let provider = try Self.provider(kind)
        defer { if let server = provider.server { _ = try? server.kill() } }
        let root = try TemporaryDirectory("provider-cli")
        defer { root.remove() }
        let data = root.appending("data")
        func run(_ arguments: [String], in directory: String? = nil) throws -> ChildProcess.Output {
            try Self.run(arguments, data: directory ?? data, environment: provider.environment)
        }

        let initialised = try run(["init", "--json"] + provider.initArguments)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(try initialised.json()["keyProvider"] as? String == kind)
        let settingsPath = data + "/key-provider.json"
        #expect(Self.mode(settingsPath) == 0o600)
        let settings = try String(contentsOfFile: settingsPath, encoding: .utf8)
        #expect(settings.contains("\"kind\" : \"\(kind)\""), "\(settings)")
        #expect(!settings.contains(provider.secret), "no PIN or token in key-provider.json")
        #expect(try run(["init"] + provider.initArguments).status == 0, "init again with the same provider")
        let local = try run(["init"])
        #expect(local.status == 1 && local.stderr.contains("keys migrate"), "\(local.stderr)")

        let added = try run(["tenant", "add", "acme", "--voice-days", "1", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenantID = try #require(try added.json()["id"] as? String)
        let recorded = try run(["_record-sample", "--tenant", tenantID, "--seconds", "1"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let first = try #require(recorded.stdout.split(separator: "\n").first)
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let recordingID = try #require(opened["recordingId"] as? String)

        // (`_record-sample` writes raw codec segments, which `recordings export` does not read: `verify`
        // decrypts and authenticates every segment with the data key from the provider.)
        let verified = try run(["verify", recordingID, "--json"])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")

        // A full backup before the sweep: keys.sqlite, catalog, root key, sealed files.
        let backup = root.appending("backup")
        let copied = try ChildProcess.run(URL(fileURLWithPath: "/bin/cp"), ["-a", data, backup])
        #expect(copied.status == 0, "\(copied.stderr)")

        // serve opens on the provider: the tenant's day keys are prepared before it listens (off its
        // event loops), and it stops cleanly.
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        let serve = try ChildProcess(
            executable, ["serve", "--http", "127.0.0.1:0"],
            environment: provider.environment.merging(["CALLVAULT_DATA": data]) { $1 })
        _ = try serve.waitForLine("serve's `listening` line", timeout: .seconds(60)) { $0.hasPrefix("listening ") }
        let served = try serve.stop(SIGTERM, timeout: .seconds(30))
        #expect(served.status == 0, "\(served.stderr)")
        #expect(served.stderr.contains("day keys prepared ahead") && served.stderr.contains("tenantsFailing=0"), "\(served.stderr)")
        #expect(!served.stderr.contains(provider.secret), "no PIN or token in serve's log")

        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(5 * 86_400))
        let swept = try run(["sweep", "--once", "--now", later, "--json"])
        #expect(swept.status == 0, "\(swept.stderr)")
        #expect(try swept.json()["recordingsShredded"] as? [String] == [recordingID])

        // The backup, with the live provider still configured, cannot decrypt the shredded recording.
        let restored = try run(["recordings", "export", recordingID, "--out", root.appending("after.wav")], in: backup)
        #expect(restored.status == 1, "\(restored.stdout) \(restored.stderr)")
        #expect(restored.stderr.contains("shredded"), "\(restored.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appending("after.wav")))
    }

    @Test func pkcs11PinMissingOrWrongFailsInitNamingTheVariableAndNeverShowingThePin() throws {
        let provider = try Self.provider("pkcs11")
        let root = try TemporaryDirectory("provider-cli-pin")
        defer { root.remove() }
        let conf = try #require(provider.environment["SOFTHSM2_CONF"])
        // The second token: no process has logged in to it with the right PIN.
        let arguments = [
            "init", "--key-provider", "pkcs11", "--pkcs11-module", SoftHSMToken.modulePath, "--pkcs11-token",
            SoftHSMToken.otherLabel,
        ]

        let missing = try Self.run(arguments, data: root.appending("missing"), environment: ["SOFTHSM2_CONF": conf])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("CALLVAULT_PKCS11_PIN"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appending("missing")), "nothing written")

        let wrongPIN = "wrong-pin-73915"
        let wrong = try Self.run(
            arguments, data: root.appending("wrong"),
            environment: ["SOFTHSM2_CONF": conf, "CALLVAULT_PKCS11_PIN": wrongPIN])
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("CALLVAULT_PKCS11_PIN"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains(wrongPIN) && !wrong.stdout.contains(wrongPIN))
        #expect(!FileManager.default.fileExists(atPath: root.appending("wrong") + "/key-provider.json"))

        // A PIN file readable by others is refused (exit 2), naming the file.
        let pinFile = root.appending("pin")
        try "\(SoftHSMToken.pin)\n".write(toFile: pinFile, atomically: true, encoding: .utf8)
        #expect(chmod(pinFile, 0o644) == 0)
        let exposed = try Self.run(
            arguments + ["--pkcs11-pin-file", pinFile], data: root.appending("exposed"),
            environment: ["SOFTHSM2_CONF": conf])
        #expect(exposed.status == 2 && exposed.stderr.contains("chmod 600"), "\(exposed.stderr)")
        #expect(!exposed.stderr.contains(SoftHSMToken.pin))

        let noModule = try Self.run(
            ["init", "--key-provider", "pkcs11", "--pkcs11-token", SoftHSMToken.label], data: root.appending("usage"),
            environment: ["SOFTHSM2_CONF": conf])
        #expect(noModule.status == 2 && noModule.stderr.contains("--pkcs11-module"), "\(noModule.stderr)")
    }

    @Test func aCommandFailsWhenTheProviderCannotBeOpenedInsteadOfFallingBackToLocal() throws {
        let provider = try Self.provider("pkcs11")
        let root = try TemporaryDirectory("provider-cli-open")
        defer { root.remove() }
        let data = root.appending("data")
        let pinFile = root.appending("pin")
        try "\(SoftHSMToken.pin)\n".write(toFile: pinFile, atomically: true, encoding: .utf8)
        #expect(chmod(pinFile, 0o600) == 0)
        let conf = try #require(provider.environment["SOFTHSM2_CONF"])
        let initialised = try Self.run(
            ["init"] + provider.initArguments + ["--pkcs11-pin-file", pinFile], data: data,
            environment: ["SOFTHSM2_CONF": conf])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let settings = try String(contentsOfFile: data + "/key-provider.json", encoding: .utf8)
        #expect(settings.contains(pinFile) && !settings.contains("\"\(SoftHSMToken.pin)"))

        // The PIN file is read by later commands too.
        let added = try Self.run(["tenant", "add", "acme"], data: data, environment: ["SOFTHSM2_CONF": conf])
        #expect(added.status == 0, "\(added.stderr)")
        // Without it, no key store is opened at all.
        try FileManager.default.removeItem(atPath: pinFile)
        let failed = try Self.run(["sweep", "--once"], data: data, environment: ["SOFTHSM2_CONF": conf])
        #expect(failed.status == 1 && failed.stderr.contains("CALLVAULT_PKCS11_PIN"), "\(failed.stderr)")
    }
}
