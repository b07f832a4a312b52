import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve --tls-cert --tls-key` over real sockets, checked with curl and openssl (Debian's
/// OpenSSL, an independent TLS client): HTTPS on the media/control port, TLS 1.2 at least, plain
/// connections allowed or refused with a message, the certificate reloaded on SIGHUP.
@Suite("TLS on the ingest port", .serialized, .timeLimit(.minutes(15)))
struct TLSServeTests {
    /// A self-signed P-256 certificate for 127.0.0.1 with `name` as its subject, written to `directory`.
    static func certificate(_ name: String, in directory: String) throws -> (certificate: String, key: String) {
        let certificate = directory + "/\(name).crt"
        let key = directory + "/\(name).key"
        let made = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
             "-days", "2", "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1"],
            timeout: .seconds(30))
        #expect(made.status == 0, "\(made.stderr)")
        return (certificate, key)
    }

    static func curl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let run = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "--max-time", "10"] + arguments, timeout: .seconds(30))
        return (run.status, run.stdout, run.stderr)
    }

    /// The subject of the certificate the server presents now.
    static func presentedSubject(port: Int) throws -> String {
        let run = try ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "echo | openssl s_client -connect 127.0.0.1:\(port) 2>/dev/null | openssl x509 -noout -subject"],
            timeout: .seconds(30))
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func httpsServesTLS12OrLaterPlainIsRefusedWhenRequiredAndSIGHUPReloadsTheCertificate() throws {
        let (root, data, _) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try Self.certificate("first", in: root)
        let server = try ServeProcess(data: data, extra: ["--tls-cert", first.certificate, "--tls-key", first.key, "--require-tls"])
        defer { server.terminate() }
        let url = "https://127.0.0.1:\(server.port)/healthz"
        let healthy = try Self.curl(["--cacert", first.certificate, url])
        #expect(healthy.status == 0 && healthy.stdout.contains("\"status\":\"ok\""), "\(healthy.stderr)")
        #expect(try Self.curl(["--cacert", first.certificate, "--tlsv1.3", url]).status == 0)
        #expect(try Self.curl(["--cacert", first.certificate, "--tlsv1.2", "--tls-max", "1.2", url]).status == 0)
        #expect(try Self.curl(["--cacert", first.certificate, "--tls-max", "1.1", url]).status != 0, "TLS 1.1 refused")
        let plain = try Self.curl(["-i", "http://127.0.0.1:\(server.port)/healthz"])
        #expect(plain.stdout.hasPrefix("HTTP/1.1 400") && plain.stdout.contains("use https:// or wss://"), "\(plain.stdout)")
        #expect(try Self.presentedSubject(port: server.port).contains("CN = first"))

        // A renewed certificate: SIGHUP, and new connections get it.
        let second = try Self.certificate("second", in: root)
        try FileManager.default.removeItem(atPath: first.certificate)
        try FileManager.default.removeItem(atPath: first.key)
        try FileManager.default.copyItem(atPath: second.certificate, toPath: first.certificate)
        try FileManager.default.copyItem(atPath: second.key, toPath: first.key)
        server.child.send(SIGHUP)
        #expect(try poll(timeout: .seconds(10)) { try Self.presentedSubject(port: server.port).contains("CN = second") })
        #expect(try Self.curl(["--cacert", second.certificate, url]).status == 0)
        // A broken file on the next reload: the current certificate stays in use.
        try "not a certificate".write(toFile: first.certificate, atomically: true, encoding: .utf8)
        server.child.send(SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try Self.curl(["--cacert", second.certificate, url]).status == 0)
        #expect(try server.stop() == 0)
    }

    @Test func withoutRequireTLSPlainAndTLSShareThePortAndBadFilesAreNamed() throws {
        let (root, data, _) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pair = try Self.certificate("both", in: root)
        let server = try ServeProcess(data: data, extra: ["--tls-cert", pair.certificate, "--tls-key", pair.key])
        defer { server.terminate() }
        #expect(try Self.curl(["--cacert", pair.certificate, "https://127.0.0.1:\(server.port)/healthz"]).status == 0)
        #expect(try Self.curl(["http://127.0.0.1:\(server.port)/healthz"]).stdout.contains("\"status\":\"ok\""))
        #expect(try server.stop() == 0)

        let executable = try #require(Repository.callvault)
        let wrongKey = try Self.certificate("other", in: root).key
        let refused = try ChildProcess.run(
            executable, ["serve", "--data", data, "--http", "127.0.0.1:0", "--tls-cert", pair.certificate, "--tls-key", wrongKey],
            timeout: .seconds(60))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("do not make a TLS context"), "\(refused.stderr)")
        let missing = try ChildProcess.run(
            executable, ["serve", "--data", data, "--http", "127.0.0.1:0", "--require-tls"], timeout: .seconds(60))
        #expect(missing.status == 2)
    }
}
