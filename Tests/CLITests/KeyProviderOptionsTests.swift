import ArgumentParser
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

@testable import callvault

#if canImport(Glibc)
    import Glibc
#endif

/// `init`'s key-provider options: usage errors name what is missing; the settings file holds no secret.
@Suite struct KeyProviderOptionsTests {
    private func message(_ arguments: [String], environment: [String: String] = [:]) -> String? {
        do {
            let options = try KeyProviderOptions.parse(arguments)
            try options.validate(environment: environment)
            return nil
        } catch {
            return KeyProviderOptions.message(for: error)
        }
    }

    @Test func missingOrForeignOptionsAreUsageErrorsNamingTheOption() throws {
        #expect(message([]) == nil)
        #expect(message(["--key-provider", "hsm"])?.contains("local, pkcs11 or transit") == true)
        #expect(message(["--key-provider", "pkcs11", "--pkcs11-token", "t"])?.contains("--pkcs11-module") == true)
        #expect(message(["--key-provider", "pkcs11", "--pkcs11-module", "/m"])?.contains("--pkcs11-token") == true)
        let noPIN = message(["--key-provider", "pkcs11", "--pkcs11-module", "/m", "--pkcs11-token", "t"])
        #expect(noPIN?.contains("CALLVAULT_PKCS11_PIN") == true)
        try KeyProviderOptions.parse(["--key-provider", "local"]).validate(environment: ["CALLVAULT_PKCS11_PIN": "1"])
        #expect(message(["--key-provider", "transit"])?.contains("--transit-url") == true)
        #expect(message(["--key-provider", "transit", "--transit-url", "http://127.0.0.1:8200"])?.contains("CALLVAULT_TRANSIT_TOKEN") == true)
        #expect(message(["--transit-url", "http://127.0.0.1:8200"])?.contains("only for --key-provider transit") == true)
        #expect(message(["--key-provider", "transit", "--pkcs11-token", "t"])?.contains("only for --key-provider pkcs11") == true)
    }

    @Test func settingsHoldAbsolutePathsAndNoSecretAndAreWrittenPrivately() throws {
        let directory = try TemporaryDirectory("provider-settings")
        defer { directory.remove() }
        let tokenFile = directory.appending("token")
        try "s.not-a-real-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        #expect(chmod(tokenFile, 0o600) == 0)
        let options = try KeyProviderOptions.parse([
            "--key-provider", "transit", "--transit-url", "https://vault.example.com:8200", "--transit-token-file", tokenFile,
            "--transit-namespace", "ns1", "--transit-ca-file", "ca.pem",
        ])
        let settings = options.settings(currentDirectory: "/srv/cv")
        #expect(settings.kind == .transit)
        #expect(
            settings.transit
                == .init(
                    url: "https://vault.example.com:8200", mount: "transit", namespace: "ns1", caFile: "/srv/cv/ca.pem",
                    tokenFile: tokenFile))
        #expect(!settings.namesSameKeys(as: .local))
        #expect(chmod(tokenFile, 0o640) == 0)
        #expect(message(["--key-provider", "transit", "--transit-url", "http://127.0.0.1:1", "--transit-token-file", tokenFile])?.contains("chmod 600") == true)

        let data = DataDirectory(path: directory.appending("data"))
        try data.create()
        try settings.write(data)
        var info = stat()
        #expect(stat(KeyProviderSettings.path(in: data), &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try KeyProviderSettings.read(data) == settings)
        #expect(chmod(KeyProviderSettings.path(in: data), 0o644) == 0)
        #expect(throws: CLIError.self) { try KeyProviderSettings.read(data) }
        #expect(try KeyProviderSettings.read(DataDirectory(path: directory.appending("none"))) == nil)
    }
}
