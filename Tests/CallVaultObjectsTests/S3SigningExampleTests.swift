import CallVaultObjects
import Foundation
import Testing

/// S3's own signing examples (Amazon S3 API Reference, "Signature Calculations for the Authorization
/// Header" and "Authenticating Requests: Using Query Parameters"): the S3 profile, an unnormalized
/// key path, `x-amz-content-sha256`, a presigned URL.
@Suite("SigV4: S3's documented examples")
struct S3SigningExampleTests {
    static let date = AWSTimestamp(parsing: "20130524T000000Z")!.moment
    static let host = SigV4Request.Field("Host", "examplebucket.s3.amazonaws.com")
    static let scope = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

    static func signer(sessionToken: String? = nil) throws -> SigV4Signer {
        let credentials = try AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: sessionToken
        )
        return SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", profile: .s3)
    }

    @Test func getObjectWithRange() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/test.txt",
            headers: [Self.host, .init("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash
        )
        let signed = try Self.signer().sign(&request, at: Self.date)
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=\(Self.scope), SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        #expect(request.headerValues("x-amz-content-sha256") == [SigV4Signer.emptyPayloadHash])
        #expect(request.headerValues("x-amz-date") == ["20130524T000000Z"])
    }

    @Test func putObjectWithAKeyThatNeedsEncoding() throws {
        let body = "Welcome to Amazon S3."
        var request = SigV4Request(
            method: "PUT",
            path: "/test$file.text",
            headers: [
                Self.host, .init("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                .init("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: SigV4Signer.payloadHash(body.utf8)
        )
        let signed = try Self.signer().sign(&request, at: Self.date)
        #expect(signed.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        #expect(signed.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func listObjectsWithAQuery() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/",
            query: [.init("max-keys", "2"), .init("prefix", "J")],
            headers: [Self.host],
            payloadHash: SigV4Signer.emptyPayloadHash
        )
        let signed = try Self.signer().sign(&request, at: Self.date)
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func getBucketLifecycleWithAValuelessParameter() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/",
            query: [.init("lifecycle", "")],
            headers: [Self.host],
            payloadHash: SigV4Signer.emptyPayloadHash
        )
        let signed = try Self.signer().sign(&request, at: Self.date)
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func presignedURL() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/test.txt",
            headers: [Self.host],
            payloadHash: SigV4Signer.unsignedPayload
        )
        let signed = try Self.signer().presign(&request, expires: 86400, at: Self.date)
        #expect(signed.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            SigV4Signer.encodedQuery(request.query)
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-Signature=\(signed.signature)"
                + "&X-Amz-SignedHeaders=host"
        )
        #expect(request.headerValues("Authorization").isEmpty, "a presigned request carries no Authorization header")
    }

    @Test func presignedURLSignsTheSessionToken() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/test.txt",
            headers: [Self.host],
            payloadHash: SigV4Signer.unsignedPayload
        )
        let signed = try Self.signer(sessionToken: "token/with+slash").presign(&request, expires: 60, at: Self.date)
        #expect(signed.canonicalRequest.contains("X-Amz-Security-Token=token%2Fwith%2Bslash"))
        #expect(request.query.last?.name == "X-Amz-Signature")
    }

    @Test func unsignedPayloadIsSignedAsSuch() throws {
        var request = SigV4Request(
            method: "PUT",
            path: "/calls/a b+c.cvr",
            headers: [Self.host],
            payloadHash: SigV4Signer.unsignedPayload
        )
        let signed = try Self.signer(sessionToken: "session").sign(&request, at: Self.date)
        #expect(request.headerValues("x-amz-content-sha256") == ["UNSIGNED-PAYLOAD"])
        #expect(signed.canonicalRequest.hasPrefix("PUT\n/calls/a%20b%2Bc.cvr\n"))
        #expect(
            signed.canonicalRequest.hasSuffix(
                "\nhost;x-amz-content-sha256;x-amz-date;x-amz-security-token\nUNSIGNED-PAYLOAD"
            )
        )
        #expect(request.headerValues("X-Amz-Security-Token") == ["session"])
    }

    @Test func s3PathsAreNotNormalized() throws {
        var request = SigV4Request(
            method: "GET",
            path: "/my-object//example//photo.user",
            headers: [Self.host],
            payloadHash: SigV4Signer.emptyPayloadHash
        )
        let signed = try Self.signer().sign(&request, at: Self.date)
        #expect(signed.canonicalRequest.hasPrefix("GET\n/my-object//example//photo.user\n"))
    }

    @Test func credentialsNeverShowTheSecret() throws {
        let credentials = try AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: "the-session-token"
        )
        for text in [String(describing: credentials), String(reflecting: credentials)] {
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("the-session-token"))
        }
    }
}
