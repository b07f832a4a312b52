import CallVaultCrypto
import CallVaultKeyProviders
import CallVaultTestSupport
import Foundation
import Testing

/// The Transit server a test talks to: the one `scripts/services start` started (its URL and token in
/// `CALLVAULT_TEST_TRANSIT_URL` / `CALLVAULT_TEST_TRANSIT_TOKEN`), or one the suite starts itself.
struct TransitTarget: Sendable {
    let url: String
    let token: String
    /// Set when the suite started the server itself.
    let server: OpenBaoServer?

    /// The suite's server, inside a test of a suite with the ``OpenBaoTrait``.
    @TaskLocal static var current: TransitTarget?

    /// A server given by the environment (`scripts/services start`), if any.
    static var fromEnvironment: TransitTarget? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CALLVAULT_TEST_TRANSIT_URL"], !url.isEmpty,
            let token = environment["CALLVAULT_TEST_TRANSIT_TOKEN"], !token.isEmpty
        else { return nil }
        return TransitTarget(url: url, token: token, server: nil)
    }

    /// Whether the tests that need OpenBao can run: a server is given, or `bao` is installed to start one.
    /// Without either they fail naming `scripts/services install` — unless `CALLVAULT_SKIP_SERVICES=1`,
    /// which turns them off (each shows as skipped, with the reason).
    static var canRunOrMustFail: Bool {
        fromEnvironment != nil || OpenBaoServer.binary != nil
            || ProcessInfo.processInfo.environment["CALLVAULT_SKIP_SERVICES"] != "1"
    }

    static let skipReason: Comment =
        "SKIPPED: OpenBao is not installed and CALLVAULT_SKIP_SERVICES=1 — the Transit key provider is NOT tested; run scripts/services install"

    /// A provider for this server.
    func provider(
        token: String? = nil,
        mount: String = "transit",
        timeout: Duration = .seconds(10)
    ) throws -> TransitKeyProvider {
        try TransitKeyProvider(
            .init(
                url: url,
                mount: mount,
                token: TransitToken(token ?? self.token),
                requestTimeout: timeout,
                caCertificateFile: server?.caCertificateFile
            )
        )
    }
}

/// Runs a suite against one OpenBao server: the environment's, or one started for the suite and
/// stopped after it.
struct OpenBaoTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        if let given = TransitTarget.fromEnvironment {
            try await TransitTarget.$current.withValue(given) { try await function() }
            return
        }
        let server = try OpenBaoServer()
        defer { _ = try? server.kill() }
        let target = TransitTarget(url: server.url, token: server.token, server: server)
        try await TransitTarget.$current.withValue(target) { try await function() }
    }
}

extension Trait where Self == OpenBaoTrait {
    /// Starts (or finds) the OpenBao server the suite's tests use; see ``TransitTarget``.
    static var openBao: Self { OpenBaoTrait() }
}

/// The thrown ``KeyProviderError`` of `body`, or nil when it did not throw; checks on the way that the
/// error's message and description hold none of `secrets` (tokens, key bytes in hex).
func providerError<T>(
    hiding secrets: [String] = [],
    _ body: () throws(KeyProviderError) -> T,
    sourceLocation: SourceLocation = #_sourceLocation
) -> KeyProviderError? {
    do {
        _ = try body()
        return nil
    } catch {
        for secret in secrets where !secret.isEmpty {
            #expect(!error.message.contains(secret), "an error message holds a secret", sourceLocation: sourceLocation)
            #expect(
                !String(describing: error).contains(secret) && !String(reflecting: error).contains(secret),
                "an error's description holds a secret",
                sourceLocation: sourceLocation
            )
        }
        return error
    }
}

/// A fresh key name, unique across runs against a long-lived server.
func uniqueKeyName(_ label: String) -> String {
    "cv-test-\(label)-\(UInt64.random(in: 0...UInt64.max))"
}

/// The bytes of a key, for comparing in tests only.
func bytes(of key: SecretKey) -> [UInt8] {
    key.withUnsafeBytes { Array($0) }
}
