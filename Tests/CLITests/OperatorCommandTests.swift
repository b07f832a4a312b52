import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// `callvault operator add|list|remove`: the password shown once and stored only as an scrypt hash,
/// roles by tenant id or name, refusals with their exit codes.
@Suite(.timeLimit(.minutes(15))) struct OperatorCommandTests {
    @Test func anOperatorsPasswordIsShownOnceAndStoredOnlyAsAnScryptHash() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let directory = NSTemporaryDirectory() + "callvault-operator-tests-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        #expect(try cli.run(["init"]).status == 0)
        let tenant = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)

        let added = try cli.run(["operator", "add", "alice", "--tenant", "acme", "--role", "agent", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let json = try added.json()
        let password = try #require(json["password"] as? String)
        #expect(password.count == 20)
        #expect(json["roles"] as? [String: String] == [tenant: "agent"], "the tenant named by name, stored by id")
        let text = try cli.run(["operator", "add", "root", "--global-admin"])
        #expect(text.status == 0 && text.stdout.contains("global admin") && text.stdout.contains("password: "))

        var stored = Data()
        for suffix in ["", "-wal"] {
            stored += FileManager.default.contents(atPath: directory + "/catalog.sqlite" + suffix) ?? Data()
        }
        #expect(stored.range(of: Data(password.utf8)) == nil, "no plaintext password in the catalog")
        let credentials = try #require(try Catalog(directory: directory).operatorCredentials(name: "alice"))
        #expect(PasswordHash(encoded: credentials.passwordHash)?.verify(password) == true)

        let listed = try cli.run(["operator", "list", "--json"])
        #expect(listed.status == 0 && !listed.stdout.contains("scrypt") && !listed.stdout.contains(password))
        #expect(listed.stdout.contains("\"alice\"") && listed.stdout.contains("\"root\""))

        let duplicate = try cli.run(["operator", "add", "alice", "--global-admin"])
        #expect(duplicate.status == 1 && duplicate.stderr.contains("already exists"))
        let unknownTenant = try cli.run(["operator", "add", "bob", "--tenant", "nope"])
        #expect(unknownTenant.status == 1 && unknownTenant.stderr.contains("no tenant with id or name nope"))
        let noRole = try cli.run(["operator", "add", "carol"])
        #expect(noRole.status == 2 && noRole.stderr.contains("--global-admin"))
        let badName = try cli.run(["operator", "add", "<carol>", "--global-admin"])
        #expect(badName.status == 2)
        let badRole = try cli.run(["operator", "add", "dave", "--tenant", "acme", "--role", "owner"])
        #expect(badRole.status == 2)

        #expect(try cli.run(["operator", "remove", "alice"]).status == 0)
        let again = try cli.run(["operator", "remove", "alice"])
        #expect(again.status == 1 && again.stderr.contains("no operator named alice"))
        let actions = try Catalog(directory: directory).auditLog.entries().map(\.action.rawValue)
        #expect(actions.filter { $0 == "operator.added" }.count == 2 && actions.contains("operator.removed"))
    }

    @Test func signOutEndsEveryConsoleSessionOfTheOperatorAndIsAudited() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let directory = NSTemporaryDirectory() + "callvault-operator-signout-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["operator", "add", "alice", "--global-admin"]).status == 0)
        #expect(try cli.run(["operator", "add", "bob", "--global-admin"]).status == 0)
        // Sessions as the console starts them (the SHA-256 of a cookie's token).
        let catalog = try Catalog(directory: directory)
        for (n, name) in [(1, "alice"), (2, "alice"), (3, "bob")] {
            try catalog.startConsoleSession(
                id: Digest.sha256Hex(Array("token \(n)".utf8)), operatorName: name, details: [:], idleBefore: Date() - 900, at: Date())
        }
        let ended = try cli.run(["operator", "sign-out", "alice"])
        #expect(ended.status == 0 && ended.stdout.contains("2 console sessions of alice ended"), "\(ended.stdout)\(ended.stderr)")
        let live = { (n: Int) throws -> String? in
            try catalog.touchConsoleSession(
                id: Digest.sha256Hex(Array("token \(n)".utf8)), idleBefore: Date() - 900, refreshBefore: Date() - 900, at: Date())
        }
        #expect(try live(1) == nil && live(2) == nil && live(3) == "bob")
        let entry = try #require(try catalog.auditLog.entries().last)
        #expect(entry.action == .operatorSignedOut && entry.actor == "cli" && entry.detailValues == ["sessions": "2"])
        let again = try cli.run(["operator", "sign-out", "alice"])
        #expect(again.status == 0 && again.stdout.contains("0 console sessions of alice ended"))
        let unknown = try cli.run(["operator", "sign-out", "nobody"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no operator named nobody"))
        // What serve accepts as the console's second-factor rule (checked before anything starts).
        let rule = try cli.run(["serve", "--console", "127.0.0.1:0", "--console-require-totp", "sometimes"])
        #expect(rule.status == 2 && rule.stderr.contains("not one of none, admins, all"), "\(rule.stderr)")
    }

    @Test func totpEnablePrintsTheSecretOnceAndDisableTakesItAway() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let directory = NSTemporaryDirectory() + "callvault-operator-totp-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["operator", "add", "root", "--global-admin"]).status == 0)

        let enabled = try cli.run(["operator", "totp", "enable", "root", "--json"])
        #expect(enabled.status == 0, "\(enabled.stderr)")
        let json = try enabled.json()
        let secret = try #require(json["secret"] as? String)
        #expect(secret.count == 32 && Base32.decode(secret)?.count == 20, "160 bits in base32")
        #expect(json["uri"] as? String == "otpauth://totp/CallVault:root?secret=\(secret)&issuer=CallVault")
        let stored = try #require(try Catalog(directory: directory).operatorCredentials(name: "root")?.totp)
        guard case .sealed(let sealed) = stored.secret else {
            Issue.record("the secret is stored as it is, not sealed")
            return
        }
        #expect(stored.lastStep == nil)
        var catalogBytes = Data()
        for suffix in ["", "-wal"] { catalogBytes += FileManager.default.contents(atPath: directory + "/catalog.sqlite" + suffix) ?? Data() }
        #expect(catalogBytes.range(of: Data(try #require(Base32.decode(secret)))) == nil, "the catalog does not hold the secret")
        let keyStore = try KeyStore(dataDirectory: DataDirectory(path: directory), logger: Logger(label: "test"))
        let opened = try keyStore.openOperatorSecret(sealed, operatorName: "root")
        #expect(opened.withUnsafeBytes { Array($0) } == Base32.decode(secret), "it opens under the root key")
        #expect(throws: KeyStoreError.self) { try keyStore.openOperatorSecret(sealed, operatorName: "other") }

        let again = try cli.run(["operator", "totp", "enable", "root"])
        #expect(again.status == 1 && again.stderr.contains("already has TOTP") && !again.stdout.contains("secret"))
        let listed = try cli.run(["operator", "list", "--json"])
        #expect(listed.stdout.contains("\"totp\" : true") && !listed.stdout.contains(secret), "\(listed.stdout)")
        let unknown = try cli.run(["operator", "totp", "enable", "nobody"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no operator named nobody"))
        // A secret an older build stored as it is: `totp seal` seals it in place, once.
        let legacy = Array(UInt8(1)...UInt8(20))
        #expect(try cli.run(["operator", "add", "old", "--global-admin"]).status == 0)
        try Catalog(directory: directory).setOperatorTOTP(name: "old", secret: .plain(legacy), actor: "test", at: Date())
        let sealedNow = try cli.run(["operator", "totp", "seal"])
        #expect(sealedNow.status == 0 && sealedNow.stdout.contains("1 TOTP secret sealed"), "\(sealedNow.stdout)\(sealedNow.stderr)")
        guard case .sealed(let resealed)? = try Catalog(directory: directory).operatorCredentials(name: "old")?.totp?.secret else {
            Issue.record("not sealed")
            return
        }
        #expect(try keyStore.openOperatorSecret(resealed, operatorName: "old").withUnsafeBytes { Array($0) } == legacy)
        #expect(try cli.run(["operator", "totp", "seal"]).stdout.contains("0 TOTP secrets sealed"))

        let disabled = try cli.run(["operator", "totp", "disable", "root"])
        #expect(disabled.status == 0 && disabled.stdout.contains("TOTP disabled"), "\(disabled.stderr)")
        #expect(try Catalog(directory: directory).operatorCredentials(name: "root")?.totp == nil)
        #expect(try cli.run(["operator", "list"]).stdout.contains(" no "))
        #expect(try cli.run(["operator", "totp", "disable", "root"]).status == 1)
        let text = try cli.run(["operator", "totp", "enable", "root"])
        #expect(text.status == 0 && text.stdout.contains("secret: ") && text.stdout.contains("otpauth://totp/CallVault:root?secret="))

        let entries = try Catalog(directory: directory).auditLog.entries()
        #expect(entries.filter { $0.action == .operatorTOTPEnabled }.count == 3, "root twice, old once")
        #expect(entries.filter { $0.action == .operatorTOTPDisabled }.count == 1)
        #expect(!entries.contains { $0.details.contains(secret) }, "the secret in no audit entry")
    }
}
