import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultObjects

/// ``ObjectStoreConformance`` on ``S3ObjectStore`` against moto's S3 server with signature checking
/// on (`scripts/services start moto`), each test in a bucket of its own; and what only S3 has (wrong
/// credentials, versions, a key prefix, server-side encryption headers).
@Suite(
    "Object store: S3 (moto, signatures checked)",
    .enabled(if: S3TestServer.canRunOrMustFail, Comment(rawValue: S3TestServer.skipReason))
)
struct S3ObjectStoreTests {
    /// A store on a fresh bucket of the environment's server, shut down after `body`.
    static func withStore(
        prefix: String = "",
        signsPayload: Bool = true,
        _ body: (S3ObjectStore) async throws -> Void
    ) async throws {
        let server = try S3TestServer.required()
        let store = try S3ObjectStore(
            .init(
                endpoint: server.endpoint,
                region: server.region,
                bucket: S3TestServer.uniqueBucketName("conf"),
                prefix: prefix,
                addressing: .path,
                requestTimeout: .seconds(30),
                signsPayload: signsPayload
            ),
            credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey)
        )
        do {
            try await store.createBucket()
            try await body(store)
        } catch {
            await store.shutdown()
            throw error
        }
        await store.shutdown()
    }

    @Test func roundTrip() async throws { try await Self.withStore(ObjectStoreConformance.roundTrip) }
    @Test func keysThatNeedEncoding() async throws {
        try await Self.withStore(ObjectStoreConformance.keysThatNeedEncoding)
    }
    @Test func ranges() async throws { try await Self.withStore(ObjectStoreConformance.ranges) }
    @Test func multipart() async throws { try await Self.withStore(ObjectStoreConformance.multipart) }
    @Test func multipartAbort() async throws { try await Self.withStore(ObjectStoreConformance.multipartAbort) }
    @Test func multipartBadParts() async throws { try await Self.withStore(ObjectStoreConformance.multipartBadParts) }
    @Test func list() async throws { try await Self.withStore(ObjectStoreConformance.list) }
    @Test func delete() async throws { try await Self.withStore(ObjectStoreConformance.delete) }
    @Test func notFound() async throws { try await Self.withStore(ObjectStoreConformance.notFound) }
    @Test func badKeys() async throws { try await Self.withStore(ObjectStoreConformance.badKeys) }

    @Test("unsigned payloads and a key prefix: the same contract")
    func unsignedPayloadUnderAPrefix() async throws {
        try await Self.withStore(prefix: "install-1/", signsPayload: false) { store in
            try await ObjectStoreConformance.roundTrip(store)
            #expect(store.location.hasSuffix("/install-1/"))
        }
        try await Self.withStore(prefix: "install-2/", signsPayload: false) { store in
            // Keys outside the prefix, in the same bucket, are not the store's.
            var outside = store.configuration
            outside.prefix = ""
            let server = try S3TestServer.required()
            let bucket = try S3ObjectStore(
                outside,
                credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey)
            )
            _ = try await bucket.put("elsewhere/x", bytes: [1])
            try await ObjectStoreConformance.list(store)
            #expect(try await bucket.list(prefix: "install-2/").count == 5)
            await bucket.shutdown()
        }
    }

    @Test("a wrong secret is refused by the server: accessDenied, SignatureDoesNotMatch, no secret in the message")
    func wrongSecret() async throws {
        try await Self.withStore { good in
            _ = try await good.put("k.cvr", bytes: [1, 2, 3])
            let server = try S3TestServer.required()
            let wrongSecret = "wrong-secret-" + server.secretAccessKey.prefix(8)
            let bad = try S3ObjectStore(
                good.configuration,
                credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: wrongSecret)
            )
            let secrets = [wrongSecret, server.secretAccessKey, server.accessKeyID]
            let get = await ObjectStoreConformance.error(hiding: secrets) { () async throws(ObjectStoreError) in
                try await bad.get("k.cvr")
            }
            #expect(get?.code == .accessDenied)
            #expect(get?.serverCode == "SignatureDoesNotMatch")
            #expect(get?.message.contains("AWS_SECRET_ACCESS_KEY") == true, "\(get?.message ?? "")")
            #expect(get?.message.contains(good.configuration.bucket) == true)
            let put = await ObjectStoreConformance.error(hiding: secrets) { () async throws(ObjectStoreError) in
                try await bad.put("other.cvr", bytes: [4])
            }
            #expect(put?.code == .accessDenied)
            let head = await ObjectStoreConformance.error(hiding: secrets) { () async throws(ObjectStoreError) in
                try await bad.head("k.cvr")
            }
            #expect(head?.code == .accessDenied)
            await bad.shutdown()
            #expect(try await good.list(prefix: "").map(\.key) == ["k.cvr"], "nothing was written with the wrong key")
        }
    }

    @Test("an unknown access key id is refused: accessDenied, InvalidAccessKeyId")
    func unknownAccessKey() async throws {
        try await Self.withStore { good in
            let bad = try S3ObjectStore(
                good.configuration,
                credentials: AWSCredentials(accessKeyID: "AKIANOSUCHKEY0000000", secretAccessKey: "x")
            )
            let error = await ObjectStoreConformance.error(hiding: ["AKIANOSUCHKEY0000000"]) {
                () async throws(ObjectStoreError) in try await bad.list(prefix: "")
            }
            #expect(error?.code == .accessDenied)
            #expect(error?.serverCode == "InvalidAccessKeyId")
            await bad.shutdown()
        }
    }

    @Test("a missing bucket is misconfigured, named with the fix")
    func missingBucket() async throws {
        let server = try S3TestServer.required()
        let store = try S3ObjectStore(
            .init(
                endpoint: server.endpoint,
                region: server.region,
                bucket: "cv-never-created-bucket",
                addressing: .path
            ),
            credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey)
        )
        let error = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
            try await store.put("k", bytes: [1])
        }
        #expect(error?.code == .misconfigured)
        #expect(error?.serverCode == "NoSuchBucket")
        #expect(error?.message.contains("create it") == true, "\(error?.message ?? "")")
        await store.shutdown()
    }

    @Test("delete removes every version and delete marker from a versioned bucket")
    func deleteAllVersions() async throws {
        try await Self.withStore { store in
            try await store.setVersioning(true)
            _ = try await store.put("v/rec.cvr", bytes: [1])
            _ = try await store.put("v/rec.cvr", bytes: [2])
            _ = try await store.put("v/rec.cvr-other", bytes: [3])
            #expect(try await store.listVersions(of: "v/rec.cvr").count == 2)
            try await store.delete("v/rec.cvr")
            #expect(try await store.listVersions(of: "v/rec.cvr").isEmpty, "no version and no delete marker remains")
            let head = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
                try await store.head("v/rec.cvr")
            }
            #expect(head?.code == .notFound)
            #expect(try await store.get("v/rec.cvr-other") == [3], "a key sharing the prefix is untouched")
        }
    }

    @Test("server-side encryption headers go with every write")
    func serverSideEncryption() async throws {
        try await Self.withStore { plain in
            var configuration = plain.configuration
            configuration.serverSideEncryption = .kms(keyID: nil)
            let server = try S3TestServer.required()
            let store = try S3ObjectStore(
                configuration,
                credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey)
            )
            #expect(store.encryptionHeaders.map(\.name) == ["x-amz-server-side-encryption"])
            _ = try await store.put("sse.cvr", bytes: [7])
            let response = try await store.send("HEAD", key: "sse.cvr", what: "look up sse.cvr")
            #expect(response.headers.first(name: "x-amz-server-side-encryption") == "aws:kms")
            await store.shutdown()
        }
    }
}
