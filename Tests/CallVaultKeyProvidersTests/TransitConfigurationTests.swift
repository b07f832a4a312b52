import CallVaultKeyProviders
import CallVaultTestSupport
import Foundation
import Testing

/// What a Transit provider accepts as configuration, and where its token may come from.
@Suite("Transit configuration and token")
struct TransitConfigurationTests {
    private func configure(
        _ url: String,
        mount: String = "transit",
        insecure: Bool = false
    ) -> KeyProviderError? {
        providerError(hiding: ["s.cfg-secret-7f3a"]) { () throws(KeyProviderError) in
            let provider = try TransitKeyProvider(
                .init(url: url, mount: mount, token: TransitToken("s.cfg-secret-7f3a"), allowInsecureHTTP: insecure)
            )
            provider.shutdown()
        }
    }

    @Test func plainHTTPOnlyToLoopbackUnlessAllowed() {
        for url in [
            "http://127.0.0.1:8200", "http://127.8.9.10:8200/", "http://localhost:8200", "http://[::1]:8200",
            "https://vault.example.com:8200", "https://10.0.0.5", "https://vault.example.com/prefix/",
        ] {
            #expect(configure(url) == nil, "\(url)")
        }
        for url in [
            "http://vault.example.com:8200", "http://10.0.0.5:8200", "http://128.0.0.1", "http://127.0.0.1.example.com",
        ] {
            let error = configure(url)
            #expect(error?.code == .misconfigured, "\(url)")
            #expect(error?.message.contains("only to a loopback address") == true, "\(url)")
            #expect(configure(url, insecure: true) == nil, "\(url) with allowInsecureHTTP")
        }
    }

    @Test func badURLsAndMountsAreMisconfigured() {
        for url in [
            "vault.example.com", "ftp://vault.example.com", "https://", "https://user:pw@vault.example.com",
            "https://vault.example.com/?x=1", "not a url at all",
        ] {
            #expect(configure(url)?.code == .misconfigured, "\(url)")
        }
        for mount in ["", "/", "a b", "../sys", "transit/..", "tr%2Fansit"] {
            #expect(configure("https://vault.example.com", mount: mount)?.code == .misconfigured, "mount \(mount)")
        }
        #expect(configure("https://vault.example.com", mount: "tenants/acme/transit") == nil)
        #expect(configure("https://vault.example.com", mount: "/transit/") == nil)
    }

    @Test func keyNamesAreChecked() throws {
        let provider = try TransitKeyProvider(.init(url: "http://127.0.0.1:1", token: TransitToken("tok")))
        defer { provider.shutdown() }
        for name in ["", ".", "..", "a/b", "a b", "ä", "a%2F", String(repeating: "k", count: 129), "key\n"] {
            let error = providerError { () throws(KeyProviderError) in try provider.keyExists(named: name) }
            #expect(error?.code == .misconfigured, "\(name.debugDescription)")
        }
        // Valid names get as far as the (absent) server.
        for name in ["k", "tenant-acme.day_2026-12-05.voice", String(repeating: "k", count: 128)] {
            let error = providerError { () throws(KeyProviderError) in try provider.keyExists(named: name) }
            #expect(error?.code == .unavailable, "\(name)")
        }
    }

    @Test func tokenFromEnvironment() throws {
        let token = try TransitToken.fromEnvironment(environment: ["CALLVAULT_TRANSIT_TOKEN": " s.abc\n"])
        #expect(String(describing: token) == "TransitToken(<redacted>)")
        #expect(String(reflecting: token) == "TransitToken(<redacted>)")
        let missing = providerError { () throws(KeyProviderError) in try TransitToken.fromEnvironment(environment: [:])
        }
        #expect(missing?.code == .misconfigured)
        #expect(missing?.message.contains("CALLVAULT_TRANSIT_TOKEN") == true)
        let spaced = providerError(hiding: ["s.a b"]) { () throws(KeyProviderError) in
            try TransitToken.fromEnvironment(environment: ["CALLVAULT_TRANSIT_TOKEN": "s.a b"])
        }
        #expect(spaced?.code == .misconfigured)
    }

    @Test func tokenFileMustBePrivate() throws {
        let directory = try TemporaryDirectory("transit-token")
        let path = directory.appending("token")
        let secret = "s.file-token-\(UInt32.random(in: 0...UInt32.max))"
        #expect(FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8)))

        for mode in [0o644, 0o640, 0o604] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let error = providerError(hiding: [secret]) { () throws(KeyProviderError) in try TransitToken.fromFile(path)
            }
            #expect(error?.code == .misconfigured, "mode \(String(mode, radix: 8))")
            #expect(error?.message.contains("chmod 600 \(path)") == true)
        }
        for mode in [0o600, 0o400] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            _ = try TransitToken.fromFile(path)
        }
        // load(): the environment wins; the file when the variable is unset.
        _ = try TransitToken.load(file: path, environment: [:])
        _ = try TransitToken.load(file: path, environment: ["CALLVAULT_TRANSIT_TOKEN": "s.env"])

        let missing = providerError { () throws(KeyProviderError) in
            try TransitToken.fromFile(directory.appending("none"))
        }
        #expect(missing?.code == .misconfigured)
        let folder = providerError { () throws(KeyProviderError) in try TransitToken.fromFile(directory.path) }
        #expect(folder?.code == .misconfigured)
        let empty = directory.appending("empty")
        #expect(
            FileManager.default.createFile(
                atPath: empty,
                contents: Data("\n".utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect(
            providerError { () throws(KeyProviderError) in try TransitToken.fromFile(empty) }?.code == .misconfigured
        )
    }
}
