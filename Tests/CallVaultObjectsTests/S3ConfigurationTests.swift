import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultObjects

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The S3 store's set-up without a server: endpoints and addressing, credentials from the environment
/// and from files, S3's XML.
@Suite("Object store: S3 configuration")
struct S3ConfigurationTests {
    static let credentials = try! AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")

    @Test func virtualHostAndPathStyleURLs() throws {
        let virtual = try S3ObjectStore.Endpoint(
            .init(endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "calls")
        )
        #expect(virtual.hostHeader == "calls.s3.eu-central-1.amazonaws.com")
        #expect(virtual.path("t/a b.cvr") == "/t/a b.cvr")
        #expect(
            virtual.url(path: virtual.path("t/a b.cvr"), query: [.init("uploadId", "x/y")])
                == "https://calls.s3.eu-central-1.amazonaws.com/t/a%20b.cvr?uploadId=x%2Fy"
        )
        let path = try S3ObjectStore.Endpoint(
            .init(endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "calls", addressing: .path)
        )
        #expect(path.hostHeader == "127.0.0.1:9000")
        #expect(path.url(path: path.path("k"), query: []) == "http://127.0.0.1:9000/calls/k")
        #expect(path.path("") == "/calls")
    }

    /// S3's documented presigned URL, made by the store (virtual-host addressing, key under the bucket).
    /// Not checked against moto: moto 5.2.5 with IAM authentication on answers every query-signed
    /// request with 500 (it looks for an `Authorization` header: KeyError HTTP_AUTHORIZATION), even
    /// boto3's own presigned URLs.
    @Test func presignedURLIsS3sDocumentedExample() async throws {
        let store = try S3ObjectStore(
            .init(endpoint: "https://s3.amazonaws.com", region: "us-east-1", bucket: "examplebucket"),
            credentials: AWSCredentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            )
        )
        let url = try store.presignedURL(
            "test.txt",
            expires: 86400,
            at: AWSTimestamp(parsing: "20130524T000000Z")!.moment
        )
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
                + "&X-Amz-SignedHeaders=host"
        )
        #expect(!url.contains("wJalrXUtnFEMI"))
        #expect(throws: ObjectStoreError.self) { try store.presignedURL("test.txt", expires: 0) }
        #expect(throws: ObjectStoreError.self) { try store.presignedURL("", expires: 60) }
        await store.shutdown()
    }

    @Test func endpointsThatCannotWorkAreRefused() {
        let cases: [(S3ObjectStore.Configuration, String)] = [
            (.init(endpoint: "http://s3.example.com", region: "r", bucket: "calls"), "plain http"),
            (.init(endpoint: "ftp://s3.example.com", region: "r", bucket: "calls"), "not an http(s) URL"),
            (.init(endpoint: "https://s3.example.com", region: "r", bucket: "Calls"), "not valid"),
            (.init(endpoint: "https://s3.example.com", region: "r", bucket: "ab"), "not valid"),
            (.init(endpoint: "https://s3.example.com", region: "r", bucket: "a.b.c"), "path-style"),
            (.init(endpoint: "https://s3.example.com", region: "r", bucket: "calls", prefix: "p"), "must end with /"),
            (.init(endpoint: "https://s3.example.com", region: "", bucket: "calls"), "region"),
            (.init(endpoint: "https://user:pw@s3.example.com", region: "r", bucket: "calls"), "credentials"),
        ]
        for (configuration, words) in cases {
            do {
                _ = try S3ObjectStore(configuration, credentials: Self.credentials)
                Issue.record("\(configuration.endpoint) \(configuration.bucket) was accepted")
            } catch {
                #expect(error.code == .misconfigured)
                #expect(error.message.contains(words), "\(error.message)")
                #expect(!error.message.contains("pw@"), "the endpoint's password is not echoed")
            }
        }
        var insecure = S3ObjectStore.Configuration(endpoint: "http://s3.example.com", region: "r", bucket: "calls")
        insecure.allowInsecureHTTP = true
        #expect(throws: Never.self) { try S3ObjectStore(insecure, credentials: Self.credentials) }
    }

    @Test func credentialsFromTheEnvironment() throws {
        let credentials = try AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": " secret\n", "AWS_SESSION_TOKEN": "",
        ])
        #expect(credentials.accessKeyID == "AKID")
        #expect(credentials.sessionToken == nil)
        #expect(credentials.secretAccessKey.withUnsafeBytes { Array($0) } == Array("secret".utf8))
        do {
            _ = try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"])
            Issue.record("a missing secret was accepted")
        } catch {
            #expect(error.message.contains("AWS_SECRET_ACCESS_KEY is not set"))
        }
    }

    @Test func credentialsFromAPrivateFile() throws {
        let directory = try TemporaryDirectory("credentials")
        let path = directory.appending("s3.env")
        try
            "# CallVault's bucket\nexport AWS_ACCESS_KEY_ID=AKIDFILE\nAWS_SECRET_ACCESS_KEY = s3cr3t/+x\nAWS_SESSION_TOKEN=tok\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        let credentials = try AWSCredentials.fromFile(path)
        #expect(credentials.accessKeyID == "AKIDFILE")
        #expect(credentials.sessionToken == "tok")
        #expect(credentials.secretAccessKey.withUnsafeBytes { Array($0) } == Array("s3cr3t/+x".utf8))
        // The AWS shared-credentials form.
        try "[default]\naws_access_key_id = AKIDINI\naws_secret_access_key = inisecret\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try AWSCredentials.fromFile(path).accessKeyID == "AKIDINI")
        chmod(path, 0o644)
        do {
            _ = try AWSCredentials.fromFile(path)
            Issue.record("a world-readable credentials file was accepted")
        } catch {
            #expect(error.code == .misconfigured)
            #expect(error.message.contains("chmod 600"), "\(error.message)")
            #expect(!error.message.contains("inisecret"))
        }
        chmod(path, 0o600)
        try "AWS_ACCESS_KEY_ID=only\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: ObjectStoreError.self) { try AWSCredentials.fromFile(path) }
        #expect(throws: ObjectStoreError.self) { try AWSCredentials.fromFile(directory.appending("missing")) }
        directory.remove()
    }

    @Test func s3ErrorsBecomeTypedErrors() throws {
        let store = try S3ObjectStore(
            .init(endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "calls"),
            credentials: Self.credentials
        )
        func failure(_ status: Int, _ xml: String) -> ObjectStoreError {
            store.failure(
                status: .init(statusCode: status),
                headers: [:],
                body: Array(xml.utf8),
                what: "read k",
                key: "k"
            )
        }
        let mismatch = failure(
            403,
            "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                + "calculated does not match &amp; so on</Message><AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>"
                + "<StringToSign>AWS4-HMAC-SHA256…</StringToSign></Error>"
        )
        #expect(mismatch.code == .accessDenied)
        #expect(mismatch.serverCode == "SignatureDoesNotMatch")
        #expect(mismatch.message.contains("does not match & so on"))
        #expect(!mismatch.message.contains("AKIDEXAMPLE"), "the access key id S3 echoes is not quoted")
        #expect(failure(404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>").code == .notFound)
        #expect(failure(404, "<Error><Code>NoSuchBucket</Code></Error>").code == .misconfigured)
        #expect(
            failure(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>").code
                == .unavailable
        )
        #expect(failure(500, "").code == .unavailable)
        #expect(failure(404, "").code == .notFound, "a HEAD's 404 has no body")
        let region = failure(
            301,
            "<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message><Region>us-west-2</Region></Error>"
        )
        #expect(region.code == .misconfigured)
        #expect(region.message.contains("--s3-region us-west-2"))
        let echoed = failure(400, "<Error><Code>Weird</Code><Message>key AKIDEXAMPLE is odd</Message></Error>")
        #expect(!echoed.message.contains("AKIDEXAMPLE"))
        #expect(echoed.code == .invalidArgument)
    }

    @Test func xmlElementsAndEntities() {
        let xml = """
            <ListBucketResult xmlns="x"><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b &#233;&#x41;</Key>\
            <Size>3</Size></Contents><Contents><Key>c</Key><Size>4</Size><Owner/></Contents>\
            <ContentsX>no</ContentsX></ListBucketResult>
            """[...]
        let entries = S3XML.elements("Contents", in: xml)
        #expect(entries.count == 2)
        #expect(S3XML.value("Key", in: entries[0]) == "a&b éA")
        #expect(S3XML.value("Owner", in: entries[1]) == "")
        #expect(S3XML.value("IsTruncated", in: xml) == "false")
        #expect(S3XML.value("Missing", in: xml) == nil)
        #expect(S3XML.escape("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;")
    }
}
