import CallVaultTestSupport
import Foundation
import Testing

/// `tenant add|set --client-cert FILE` and `--client-cert-sha256 HEX` through the real `callvault` binary:
/// the pinned value is what `openssl x509 -fingerprint -sha256` prints, a bad file or value exits 2 naming
/// it, `none` clears.
@Suite(.timeLimit(.minutes(15))) struct TenantClientCertificateCLITests {
    /// A self-signed certificate and the SHA-256 fingerprint openssl gives it (lowercase, no colons).
    static func certificate(_ name: String, in directory: String) throws -> (path: String, fingerprint: String) {
        let path = directory + "/\(name).crt"
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        let made = try ChildProcess.run(
            openssl,
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory + "/\(name).key",
             "-out", path, "-days", "2", "-subj", "/CN=\(name)"],
            timeout: .seconds(30))
        #expect(made.status == 0, "\(made.stderr)")
        let printed = try ChildProcess.run(openssl, ["x509", "-noout", "-fingerprint", "-sha256", "-in", path], timeout: .seconds(30))
        let value = try #require(printed.stdout.split(separator: "=").last)
        return (path, value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased())
    }

    @Test func theFingerprintIsPinnedShownAuditedAndABadFileIsRefusedByName() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-client-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let platform = try Self.certificate("platform", in: temp)
        let spare = try Self.certificate("spare", in: temp)
        #expect(platform.fingerprint.count == 64)

        let added = try cli.run(["tenant", "add", "acme", "--json"])
        let id = try #require(try added.json()["id"] as? String)
        #expect(try added.json()["clientCertificates"] as? [String] == [])

        let set = try cli.run(["tenant", "set", id, "--client-cert", platform.path, "--json"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try set.json()["clientCertificates"] as? [String] == [platform.fingerprint])
        let shown = try cli.run(["tenant", "show", id])
        #expect(shown.stdout.contains("client-certs") && shown.stdout.contains("sha256 \(platform.fingerprint)"), "\(shown.stdout)")
        let audit = try cli.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains(platform.fingerprint), "the audit entry names the pinned fingerprint")

        // Two files and a fingerprint given as openssl prints it (colons, upper case): one list, no repeats.
        let colons = stride(from: 0, to: 64, by: 2).map { String(Array(spare.fingerprint)[$0..<$0 + 2]) }.joined(separator: ":")
        let both = try cli.run([
            "tenant", "set", id, "--client-cert", "\(platform.path),\(spare.path)", "--client-cert-sha256", colons.uppercased(), "--json",
        ])
        #expect(try both.json()["clientCertificates"] as? [String] == [platform.fingerprint, spare.fingerprint], "\(both.stderr)")

        try "not a certificate".write(toFile: temp + "/bad.pem", atomically: true, encoding: .utf8)
        let bad = try cli.run(["tenant", "set", id, "--client-cert", temp + "/bad.pem"])
        #expect(bad.status == 2 && bad.stderr.contains("--client-cert \(temp)/bad.pem: not a readable PEM certificate"), "\(bad.stderr)")
        let missing = try cli.run(["tenant", "set", id, "--client-cert", temp + "/nope.pem"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.pem"), "\(missing.stderr)")
        let short = try cli.run(["tenant", "set", id, "--client-cert-sha256", "abcd"])
        #expect(short.status == 2 && short.stderr.contains("64 hex digits"), "\(short.stderr)")
        let eleven = (0..<11).map { String(format: "%064x", $0) }.joined(separator: ",")
        let many = try cli.run(["tenant", "set", id, "--client-cert-sha256", eleven])
        #expect(many.status == 2 && many.stderr.contains("the limit is 10"), "\(many.stderr)")
        let unchanged = try cli.run(["tenant", "show", id, "--json"])
        #expect(try unchanged.json()["clientCertificates"] as? [String] == [platform.fingerprint, spare.fingerprint])

        let cleared = try cli.run(["tenant", "set", id, "--client-cert", "none", "--json"])
        #expect(try cleared.json()["clientCertificates"] as? [String] == [])
        #expect(try cli.run(["tenant", "show", id]).stdout.contains("none (the token alone is enough)"))
        let pinnedAtCreation = try cli.run(["tenant", "add", "beta", "--client-cert-sha256", platform.fingerprint, "--json"])
        #expect(try pinnedAtCreation.json()["clientCertificates"] as? [String] == [platform.fingerprint])
    }
}
