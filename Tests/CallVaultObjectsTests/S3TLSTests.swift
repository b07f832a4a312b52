import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

/// TLS to the endpoint is verified: an HTTPS server whose CA is not trusted is refused with the reason,
/// and trusted once its CA file is given. The HTTPS server is an OpenBao dev server with `-dev-tls`
/// (the one HTTPS server the test services have; it answers S3 requests with its own 404s, which is
/// enough to show that TLS got through).
@Suite(
    "Object store: S3 over TLS",
    .enabled(
        if: OpenBaoServer.binary != nil || Services.required,
        "SKIPPED: OpenBao is not installed and CALLVAULT_SKIP_SERVICES=1 — S3 TLS verification is NOT tested"
    )
)
struct S3TLSTests {
    @Test func certificatesAreVerified() async throws {
        let server = try OpenBaoServer(tls: true)
        #expect(server.url.hasPrefix("https://"))
        let credentials = try AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "tls-test-secret")
        var configuration = S3ObjectStore.Configuration(
            endpoint: server.url,
            region: "us-east-1",
            bucket: "calls",
            addressing: .path,
            requestTimeout: .seconds(10)
        )
        let untrusting = try S3ObjectStore(configuration, credentials: credentials)
        let refused = await ObjectStoreConformance.error(hiding: ["tls-test-secret"]) {
            () async throws(ObjectStoreError) in try await untrusting.head("k")
        }
        #expect(refused?.code == .unavailable)
        #expect(refused?.message.contains("certificate is not trusted") == true, "\(refused?.message ?? "")")
        await untrusting.shutdown()

        configuration.caCertificateFile = server.caCertificateFile
        let trusting = try S3ObjectStore(configuration, credentials: credentials)
        let answered = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
            try await trusting.head("k")
        }
        #expect(answered != nil && answered?.code != .unavailable, "TLS got through: \(answered?.description ?? "")")
        await trusting.shutdown()
        try server.kill()
    }

    @Test("a server that is not there, and a store that was shut down: unavailable, with the reason")
    func unreachable() async throws {
        let store = try S3ObjectStore(
            .init(endpoint: "http://127.0.0.1:1", region: "us-east-1", bucket: "calls", addressing: .path),
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s")
        )
        let refused = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
            try await store.put("k", bytes: [1])
        }
        #expect(refused?.code == .unavailable)
        #expect(refused?.message.contains("connection refused") == true, "\(refused?.message ?? "")")
        await store.shutdown()
        await store.shutdown()
        let after = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in try await store.head("k")
        }
        #expect(after?.code == .unavailable)
        #expect(after?.message.contains("shut down") == true)
    }
}
