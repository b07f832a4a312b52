public import CallVaultCrypto
public import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): signs a request in its `Authorization` header or in
/// its query (a presigned URL).
///
/// The steps are AWS's: a canonical request (method, encoded path, sorted encoded query, sorted
/// lowercase headers with trimmed values, the signed header names, the payload hash), a string to sign
/// (algorithm, timestamp, credential scope, the canonical request's SHA-256), a signing key derived by
/// four HMAC-SHA-256 steps from `AWS4` + the secret (date, region, service, `aws4_request`), and the
/// HMAC of the string to sign under it. The derived keys stay in ``SecretKey`` memory.
///
/// Checked against AWS's Signature Version 4 test suite (every vector) and S3's documented examples;
/// see `Tests/CallVaultObjectsTests/SigV4TestSuiteTests.swift`.
public struct SigV4Signer: Sendable {
    /// How a service expects its requests signed.
    public enum Profile: Sendable, Equatable {
        /// The general rules: the path is normalized (`.`/`..` segments and repeated slashes removed).
        case standard
        /// S3's rules: the path (the object key) is signed as it is, never normalized, and every request
        /// carries its payload hash in `x-amz-content-sha256`.
        case s3
    }

    /// Where a session token goes: signed (S3 and most services), or added after signing (the test
    /// suite's `post-sts-header-after`, for services that want it so).
    public enum SessionTokenPlacement: Sendable, Equatable {
        case signed
        case addedAfterSigning
    }

    /// The payload hash S3 accepts instead of the body's SHA-256 (the body is then not signed).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The algorithm's name in the string to sign and the `Authorization` header.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// SHA-256 of nothing: the payload hash of a request without a body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    public let profile: Profile
    public let sessionTokenPlacement: SessionTokenPlacement

    public init(
        credentials: AWSCredentials,
        region: String,
        service: String,
        profile: Profile,
        sessionTokenPlacement: SessionTokenPlacement = .signed
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.profile = profile
        self.sessionTokenPlacement = sessionTokenPlacement
    }

    /// The lowercase hex SHA-256 of `body`, for ``SigV4Request/payloadHash``.
    public static func payloadHash(_ body: some Sequence<UInt8>) -> String { Digest.sha256Hex(body) }

    /// `date/region/service/aws4_request`.
    public func credentialScope(_ timestamp: AWSTimestamp) -> String {
        "\(timestamp.date)/\(region)/\(service)/aws4_request"
    }

    /// Signs `request` in place for the moment `date`: sets `X-Amz-Date`, `X-Amz-Security-Token` (with
    /// a session token) and, in the ``Profile/s3`` profile, `x-amz-content-sha256`; then adds
    /// `Authorization`. Every header present is signed.
    @discardableResult
    public func sign(_ request: inout SigV4Request, at date: Date) throws(CryptoError) -> SigV4Signature {
        let timestamp = AWSTimestamp(date)
        request.setHeader("X-Amz-Date", timestamp.dateTime)
        if let token = credentials.sessionToken, sessionTokenPlacement == .signed {
            request.setHeader("X-Amz-Security-Token", token)
        }
        if profile == .s3 { request.setHeader("x-amz-content-sha256", request.payloadHash) }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method,
            canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = try signature(of: canonicalRequest, at: timestamp)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(credentialScope(timestamp)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        request.setHeader("Authorization", authorization)
        if let token = credentials.sessionToken, sessionTokenPlacement == .addedAfterSigning {
            request.setHeader("X-Amz-Security-Token", token)
        }
        return SigV4Signature(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders,
            authorization: authorization
        )
    }

    /// Signs `request` in its query for a presigned URL valid `expires` seconds (1 s to 7 days) from
    /// `date`: adds `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    /// `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (with a session token), and last
    /// `X-Amz-Signature`. Only the headers present (at least `Host`) are signed; the payload hash is
    /// the request's (S3: ``unsignedPayload``). Nothing is added to the headers.
    @discardableResult
    public func presign(_ request: inout SigV4Request, expires: Int, at date: Date) throws(CryptoError)
        -> SigV4Signature
    {
        precondition((1...604_800).contains(expires), "a presigned URL lives 1 s to 7 days")
        let timestamp = AWSTimestamp(date)
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        request.query += [
            .init("X-Amz-Algorithm", Self.algorithm),
            .init("X-Amz-Credential", "\(credentials.accessKeyID)/\(credentialScope(timestamp))"),
            .init("X-Amz-Date", timestamp.dateTime),
            .init("X-Amz-Expires", String(expires)),
            .init("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken { request.query.append(.init("X-Amz-Security-Token", token)) }
        let canonicalRequest = [
            request.method,
            canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = try signature(of: canonicalRequest, at: timestamp)
        request.query.append(.init("X-Amz-Signature", signature))
        return SigV4Signature(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders,
            authorization: ""
        )
    }

    /// The string to sign for `canonicalRequest` and its signature.
    private func signature(of canonicalRequest: String, at timestamp: AWSTimestamp) throws(CryptoError) -> (
        String, String
    ) {
        let stringToSign = [
            Self.algorithm, timestamp.dateTime, credentialScope(timestamp), Digest.sha256Hex(canonicalRequest.utf8),
        ].joined(separator: "\n")
        let key = try signingKey(timestamp)
        return (stringToSign, Hex.encode(Digest.hmacSHA256(key: key, data: Array(stringToSign.utf8))))
    }

    /// HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    private func signingKey(_ timestamp: AWSTimestamp) throws(CryptoError) -> SecretKey {
        let secret = credentials.secretAccessKey
        let prefix = Array("AWS4".utf8)
        let start: SecretKey
        do {
            start = try SecretKey(byteCount: prefix.count + secret.count) { output in
                output.copyBytes(from: prefix)
                secret.withUnsafeBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: output[prefix.count...]).copyMemory(from: bytes)
                }
            }
        } catch {
            if case .crypto(let failure) = error { throw failure }
            preconditionFailure("copying the secret into key memory cannot fail")
        }
        let dated = try Digest.hmacSHA256Key(key: start, data: timestamp.date.utf8)
        let regional = try Digest.hmacSHA256Key(key: dated, data: region.utf8)
        let serviced = try Digest.hmacSHA256Key(key: regional, data: service.utf8)
        return try Digest.hmacSHA256Key(key: serviced, data: "aws4_request".utf8)
    }
}
