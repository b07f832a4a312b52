import Foundation

/// The S3 protocol server the object-store tests run against: moto's server (`moto[server]` from PyPI)
/// with IAM authentication on, started by `scripts/services start moto` on a free loopback port, with
/// an IAM user whose access key the tests sign with (so a wrong secret gets `SignatureDoesNotMatch`).
///
/// Its address and the user's key come from `CALLVAULT_TEST_S3_ENDPOINT`, `CALLVAULT_TEST_S3_REGION`,
/// `CALLVAULT_TEST_S3_ACCESS_KEY_ID` and `CALLVAULT_TEST_S3_SECRET_ACCESS_KEY` (`scripts/test` sources
/// them). Without them the tests that need S3 fail naming the fix, unless `CALLVAULT_SKIP_SERVICES=1`
/// (``Services``), when they are skipped with ``skipReason``.
public struct S3TestServer: Sendable {
    public let endpoint: String
    public let region: String
    public let accessKeyID: String
    public let secretAccessKey: String

    /// The server the environment names, or nil.
    public static var fromEnvironment: S3TestServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["CALLVAULT_TEST_S3_ENDPOINT"], !endpoint.isEmpty,
            let accessKey = environment["CALLVAULT_TEST_S3_ACCESS_KEY_ID"], !accessKey.isEmpty,
            let secret = environment["CALLVAULT_TEST_S3_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let region = environment["CALLVAULT_TEST_S3_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        return S3TestServer(endpoint: endpoint, region: region, accessKeyID: accessKey, secretAccessKey: secret)
    }

    /// What to tell someone whose environment names no S3 server.
    public static let missingHint =
        "no S3 server: CALLVAULT_TEST_S3_ENDPOINT and its keys are not set. Run the tests with scripts/test, or "
        + "`scripts/services install moto && . \"$(scripts/services start moto)\"` first; or set "
        + "CALLVAULT_SKIP_SERVICES=1 to skip the tests that need it"

    /// Shown for each skipped test.
    public static let skipReason =
        "SKIPPED: no S3 server (CALLVAULT_TEST_S3_ENDPOINT unset) and CALLVAULT_SKIP_SERVICES=1 — the S3 object "
        + "store is NOT tested; run scripts/test"

    /// Whether the tests that need S3 run: a server is given, or they must fail for want of one.
    public static var canRunOrMustFail: Bool { fromEnvironment != nil || Services.required }

    /// The environment's server; throws ``missingHint`` when there is none.
    public static func required() throws -> S3TestServer {
        guard let server = fromEnvironment else { throw ChildProcessError(missingHint) }
        return server
    }

    /// A bucket name no other test (or earlier run against a long-lived server) uses.
    public static func uniqueBucketName(_ label: String) -> String {
        "cv-\(label)-\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
    }
}
