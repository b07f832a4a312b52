import CallVaultConsole
import CallVaultIngest
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// The console's listener over real sockets, checked with curl: the headers every response carries
/// (CSP, no-store, nosniff, no framing), cookie flags, the body limit, and HTTPS with serve's certificate.
@Suite(.timeLimit(.minutes(15))) struct ConsoleServerTests {
    /// Runs a listener on a free loopback port for `body`, then stops it.
    static func serving(
        _ fixture: ConsoleFixture, tls: TLSCredentials? = nil, _ body: (String) async throws -> Void
    ) async throws {
        let server = ConsoleServer(console: fixture.console, tls: tls, logger: Logger(label: "test"))
        let running = Task { try await server.run() }
        defer { running.cancel() }
        try await body(try await server.url())
    }

    /// `curl -i` (headers and body), insecure for the self-signed test certificate. Run off the cooperative
    /// pool: the console answers on that pool, which a blocked test thread would starve.
    static func curl(_ arguments: [String]) async throws -> String {
        let run = try await offCooperativePool {
            try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-k", "-i", "--max-time", "30"] + arguments, timeout: .seconds(60))
        }
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout
    }

    static func header(_ name: String, in response: String) -> [String] {
        response.split(separator: "\r\n").filter { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let fixture = try ConsoleFixture("console-socket")
        try await Self.serving(fixture) { url in
            #expect(url.hasPrefix("http://127.0.0.1:"))
            let login = try await Self.curl([url + "/login"])
            #expect(login.hasPrefix("HTTP/1.1 200"))
            #expect(Self.header("content-security-policy", in: login).first?.hasPrefix("default-src 'self';") == true)
            #expect(Self.header("cache-control", in: login) == ["no-store"])
            #expect(Self.header("x-content-type-options", in: login) == ["nosniff"])
            #expect(Self.header("x-frame-options", in: login) == ["DENY"])
            #expect(Self.header("referrer-policy", in: login) == ["no-referrer"])
            let cookie = try #require(Self.header("set-cookie", in: login).first)
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
            #expect(!login.contains("<script") && !login.contains("style="), "no inline script or style for the CSP to block")
            let redirect = try await Self.curl([url + "/calls"])
            #expect(redirect.hasPrefix("HTTP/1.1 303") && Self.header("location", in: redirect) == ["/login"])
            #expect(Self.header("content-security-policy", in: redirect).count == 1)
            let css = try await Self.curl([url + "/static/console.css"])
            #expect(css.hasPrefix("HTTP/1.1 200") && Self.header("cache-control", in: css) == ["public, max-age=3600"])
            let big = String(repeating: "a", count: 20_000)
            let tooLarge = try await Self.curl(["-X", "POST", "--data", "x=\(big)", url + "/login"])
            #expect(tooLarge.hasPrefix("HTTP/1.1 413"))
            let csrf = try await Self.curl(["-X", "POST", "--data", "name=alice&password=x", url + "/login"])
            #expect(csrf.hasPrefix("HTTP/1.1 403"), "sign-in without the form's token")
        }
    }

    @Test func withServesCertificateTheConsoleSpeaksHTTPSAndCookiesAreSecure() async throws {
        let fixture = try ConsoleFixture("console-tls", tls: true)
        let certificate = fixture.data.root + "/console.crt"
        let key = fixture.data.root + "/console.key"
        let made = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
             "-days", "2", "-subj", "/CN=console", "-addext", "subjectAltName=IP:127.0.0.1"],
            timeout: .seconds(30))
        #expect(made.status == 0, "\(made.stderr)")
        let credentials = try TLSCredentials(certificatePath: certificate, keyPath: key)
        try await Self.serving(fixture, tls: credentials) { url in
            #expect(url.hasPrefix("https://127.0.0.1:"))
            let login = try await Self.curl([url + "/login"])
            #expect(login.hasPrefix("HTTP/1.1 200"))
            #expect(Self.header("set-cookie", in: login).first?.contains("; Secure") == true)
            #expect(Self.header("strict-transport-security", in: login).count == 1)
        }
    }
}
