import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultTestSupport
import Foundation
import Testing

/// The Transit provider when its server dies, answers junk or presents a certificate nobody vouched for.
@Suite("Transit key provider faults", .timeLimit(.minutes(15)))
struct TransitKeyProviderFaultTests {
    let context = KeyContext(tenantID: "acme", keyID: "rec-1", purpose: "dek:voice")

    /// Kill -9 the server mid-use: every call fails `unavailable` within the timeout; a fresh server (dev
    /// mode keeps nothing) and a fresh provider then work.
    @Test(.enabled(if: TransitTarget.canRunOrMustFail, TransitTarget.skipReason))
    func serverKilledMidUseIsUnavailable() throws {
        let server = try OpenBaoServer()
        let provider = try TransitKeyProvider(
            .init(url: server.url, token: TransitToken(server.token), requestTimeout: .seconds(3))
        )
        defer { provider.shutdown() }
        let name = uniqueKeyName("kill")
        try provider.createKey(named: name)
        let dataKey = try SecretKey(randomByteCount: 32)
        let wrapped = try provider.wrap(dataKey, under: name, context: context)

        try server.kill()
        let secrets = [server.token, bytes(of: dataKey).hex]
        let clock = ContinuousClock()
        let started = clock.now
        let errors: [KeyProviderError?] = [
            providerError(hiding: secrets) { () throws(KeyProviderError) in
                try provider.unwrap(wrapped, under: name, context: context)
            },
            providerError(hiding: secrets) { () throws(KeyProviderError) in
                try provider.wrap(dataKey, under: name, context: context)
            },
            providerError(hiding: secrets) { () throws(KeyProviderError) in try provider.keyExists(named: name) },
            providerError(hiding: secrets) { () throws(KeyProviderError) in try provider.destroyKey(named: name) },
        ]
        for error in errors {
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("cannot reach Transit at \(server.url), mount transit, to ") == true)
        }
        #expect(clock.now - started < .seconds(3), "a refused connection fails at once, not after the timeout")

        let fresh = try OpenBaoServer()
        let again = try TransitKeyProvider(.init(url: fresh.url, token: TransitToken(fresh.token)))
        defer { again.shutdown() }
        try again.createKey(named: name)
        let rewrapped = try again.wrap(dataKey, under: name, context: context)
        #expect(bytes(of: try again.unwrap(rewrapped, under: name, context: context)) == bytes(of: dataKey))
        try fresh.kill()
    }

    /// Nothing listens: `unavailable`, "connection refused".
    @Test func nothingListeningIsUnavailable() throws {
        let port = try UnusedPort()
        let provider = try TransitKeyProvider(
            .init(
                url: "http://127.0.0.1:\(port.port)",
                token: TransitToken("s.secret-token"),
                requestTimeout: .seconds(2)
            )
        )
        defer { provider.shutdown() }
        let error = providerError(hiding: ["s.secret-token"]) { () throws(KeyProviderError) in
            try provider.keyExists(named: "k")
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.hasSuffix("connection refused") == true, "\(error?.message ?? "")")
    }

    /// A server that is not Vault, or a Vault that answers nonsense: `invalidResponse`, never a crash,
    /// never a key made of junk. Statuses keep their meaning (403, 5xx, redirects).
    @Test func garbageAnswersAreInvalidResponses() throws {
        let validKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        let answers: [(String, Int, String)] = [
            ("keys/plain-text", 200, "hello, I am a web server"),
            ("keys/html-404", 404, "<html><body>Not Found</body></html>"),
            ("keys/no-data", 200, #"{"request_id":"x"}"#),
            ("encrypt/not-json", 200, "<html>"),
            ("encrypt/no-prefix", 200, #"{"data":{"ciphertext":"AAAA"}}"#),
            ("encrypt/quote", 200, #"{"data":{"ciphertext":"vault:v1:AA\"AA"}}"#),
            ("decrypt/not-base64", 200, #"{"data":{"plaintext":"!!!!"}}"#),
            ("decrypt/escaped", 200, #"{"data":{"plaintext":"AAEC\/wQF"}}"#),
            ("decrypt/empty", 200, #"{"data":{"plaintext":""}}"#),
            ("decrypt/number", 200, #"{"data":{"plaintext":12}}"#),
            ("decrypt/truncated", 200, #"{"data":{"plaintext":"\#(validKey)""#),
            ("decrypt/trailing", 200, #"{"data":{"plaintext":"\#(validKey)"}} junk"#),
            ("decrypt/deep", 200, #"{"data":{"a":"# + String(repeating: "[", count: 10_000)),
        ]
        let server = try LocalHTTPServer { _, request in
            let path = request.requestLine.split(separator: " ")[1]
            if path.hasSuffix("/forbidden") { return .respond(status: 403, headers: [:], body: Data("no".utf8)) }
            if path.hasSuffix("/hang") { return .hang }
            if path.hasSuffix("/down") { return .respond(status: 503, headers: [:], body: Data("sealed".utf8)) }
            if path.hasSuffix("/moved") {
                return .respond(status: 307, headers: ["Location": "http://127.0.0.1:1/v1/x"], body: Data())
            }
            if path.hasSuffix("/valid") {
                return .respond(status: 200, headers: [:], body: Data(#"{"data":{"plaintext":"\#(validKey)"}}"#.utf8))
            }
            for (suffix, status, body) in answers where path.hasSuffix("/v1/transit/" + suffix) {
                return .respond(status: status, headers: ["Content-Type": "application/json"], body: Data(body.utf8))
            }
            return .respond(status: 418, headers: [:], body: Data())
        }
        defer { server.stop() }
        let token = "s.garbage-token-\(UInt32.random(in: 0...UInt32.max))"
        let provider = try TransitKeyProvider(
            .init(
                url: server.url.absoluteString,
                token: TransitToken(token),
                requestTimeout: .seconds(5),
                namespace: "team-a"
            )
        )
        defer { provider.shutdown() }
        let key = try SecretKey(randomByteCount: 32)
        let wrapped = Array("vault:v1:AAAA".utf8)
        let secrets = [token, bytes(of: key).hex]
        func code(_ body: () throws(KeyProviderError) -> Void) -> KeyProviderError.Code? {
            providerError(hiding: secrets, body)?.code
        }

        #expect(
            code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "plain-text") } == .invalidResponse
        )
        #expect(
            code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "html-404") } == .invalidResponse
        )
        #expect(
            code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "no-data") } == .invalidResponse
        )
        for name in ["not-json", "no-prefix", "quote"] {
            #expect(
                code { () throws(KeyProviderError) in _ = try provider.wrap(key, under: name, context: context) }
                    == .invalidResponse,
                "\(name)"
            )
        }
        for name in ["not-base64", "escaped", "empty", "number", "truncated", "trailing", "deep"] {
            #expect(
                code { () throws(KeyProviderError) in _ = try provider.unwrap(wrapped, under: name, context: context) }
                    == .invalidResponse,
                "\(name)"
            )
        }
        #expect(
            code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "forbidden") }
                == .authenticationFailed
        )
        #expect(code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "down") } == .unavailable)
        #expect(code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "moved") } == .misconfigured)
        #expect(code { () throws(KeyProviderError) in _ = try provider.keyExists(named: "teapot") } == .invalidResponse)
        let impatient = try TransitKeyProvider(
            .init(url: server.url.absoluteString, token: TransitToken(token), requestTimeout: .milliseconds(500))
        )
        defer { impatient.shutdown() }
        let hung = providerError(hiding: secrets) { () throws(KeyProviderError) in
            try impatient.keyExists(named: "hang")
        }
        #expect(hung?.code == .unavailable)
        #expect(hung?.message.contains("no answer within 500 ms") == true, "\(hung?.message ?? "")")
        // The one good answer: a 32-byte key, 0…31.
        let good = try provider.unwrap(wrapped, under: "valid", context: context)
        #expect(bytes(of: good) == Array(0..<32))

        // What went over the wire: the token and namespace headers, Base64 plaintext and associated data.
        let request = try #require(
            server.requests.first { $0.requestLine.hasPrefix("POST /v1/transit/encrypt/not-json ") }
        )
        #expect(request.headers["x-vault-token"] == token)
        #expect(request.headers["x-vault-namespace"] == "team-a")
        let body = try #require(JSONSerialization.jsonObject(with: request.body) as? [String: String])
        #expect(body["plaintext"].flatMap { Data(base64Encoded: $0) }.map(Array.init) == bytes(of: key))
        #expect(body["associated_data"].flatMap { Data(base64Encoded: $0) }.map(Array.init) == context.encoded)
        #expect(!server.requests.contains { $0.requestLine.contains("127.0.0.1:1") }, "no redirect followed")
    }

    /// TLS is verified: a server whose CA is not trusted is refused; with its CA file, it works.
    @Test(.enabled(if: TransitTarget.canRunOrMustFail, TransitTarget.skipReason))
    func tlsCertificatesAreVerified() throws {
        let server = try OpenBaoServer(tls: true)
        #expect(server.url.hasPrefix("https://"))
        let untrusting = try TransitKeyProvider(
            .init(url: server.url, token: TransitToken(server.token), requestTimeout: .seconds(5))
        )
        defer { untrusting.shutdown() }
        let error = providerError(hiding: [server.token]) { () throws(KeyProviderError) in
            try untrusting.keyExists(named: "k")
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("certificate is not trusted") == true, "\(error?.message ?? "")")

        let trusting = try TransitKeyProvider(
            .init(url: server.url, token: TransitToken(server.token), caCertificateFile: server.caCertificateFile)
        )
        defer { trusting.shutdown() }
        let name = uniqueKeyName("tls")
        try trusting.createKey(named: name)
        let dataKey = try SecretKey(randomByteCount: 32)
        let wrapped = try trusting.wrap(dataKey, under: name, context: context)
        #expect(bytes(of: try trusting.unwrap(wrapped, under: name, context: context)) == bytes(of: dataKey))
        try server.kill()
    }

    /// After shutdown, calls fail `unavailable` instead of crashing; shutting down twice is fine.
    @Test func shutdownIsFinal() throws {
        let provider = try TransitKeyProvider(.init(url: "http://127.0.0.1:1", token: TransitToken("t")))
        provider.shutdown()
        provider.shutdown()
        let error = providerError { () throws(KeyProviderError) in try provider.keyExists(named: "k") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("shut down") == true)
        // A provider dropped without shutdown() shuts its client down by itself (no crash in debug builds).
        _ = try TransitKeyProvider(.init(url: "http://127.0.0.1:1", token: TransitToken("t")))
    }
}
