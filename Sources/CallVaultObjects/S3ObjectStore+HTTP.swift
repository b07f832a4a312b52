internal import AsyncHTTPClient
import Foundation
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One signed round trip to S3, and what its answer means as an ``ObjectStoreError``.
extension S3ObjectStore {
    /// A successful answer.
    struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var etag: String? { headers.first(name: "ETag").map(S3ObjectStore.unquote) }
        /// The object's whole size from `Content-Range: bytes A-B/SIZE`.
        var totalSize: Int? {
            headers.first(name: "Content-Range").flatMap { $0.split(separator: "/").last.flatMap { Int($0) } }
        }
    }

    /// The largest answer read into memory that is not an object's bytes (listings, errors).
    static let maximumAnswerSize = 16 * 1024 * 1024

    /// Signs and sends one request; returns a 2xx answer, throws the ``ObjectStoreError`` for any other.
    /// - Parameters:
    ///   - key: the object's key under the prefix; nil for a request on the bucket.
    ///   - what: the action in the words of an error message ("store calls/a.cvr").
    func send(
        _ method: String,
        key: String?,
        query: [SigV4Request.Field] = [],
        headers extraHeaders: [SigV4Request.Field] = [],
        body: [UInt8]? = nil,
        what: String
    ) async throws(ObjectStoreError) -> Response {
        guard !hasShutDown else {
            throw ObjectStoreError(.unavailable, "\(location): cannot \(what): the store was shut down")
        }
        let path = endpoint.path(key.map { configuration.prefix + $0 } ?? "")
        let payloadHash =
            configuration.signsPayload ? SigV4Signer.payloadHash(body ?? []) : SigV4Signer.unsignedPayload
        var signed = SigV4Request(
            method: method,
            path: path,
            query: query,
            headers: [.init("Host", endpoint.hostHeader)] + extraHeaders,
            payloadHash: payloadHash
        )
        do {
            try signer.sign(&signed, at: Date())
        } catch {
            throw ObjectStoreError(.unavailable, "\(location): cannot sign the request to \(what): \(error)")
        }
        var request = HTTPClientRequest(url: endpoint.url(path: path, query: query))
        request.method = HTTPMethod(rawValue: method)
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        if let body {
            request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            request.body = .bytes(body)
        }
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        var bytes: [UInt8] = []
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status
            headers = response.headers
            if method != "HEAD" {
                let limit = status.code / 100 == 2 && method == "GET" && key != nil ? Int.max : Self.maximumAnswerSize
                var buffer = try await response.body.collect(upTo: limit)
                bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        } catch {
            throw ObjectStoreError(
                .unavailable,
                "\(location): cannot reach \(endpoint.hostHeader) to \(what): \(transportReason(error))"
            )
        }
        guard status.code / 100 == 2 else {
            throw failure(status: status, headers: headers, body: bytes, what: what, key: key)
        }
        // CompleteMultipartUpload may fail after its 200 has been sent: the error is then the body.
        if method == "POST", bytes.count < Self.maximumAnswerSize,
            S3XML.elements("Error", in: String(decoding: bytes, as: UTF8.self)[...]).first != nil
        {
            throw failure(status: .internalServerError, headers: headers, body: bytes, what: what, key: key)
        }
        return Response(status: status, headers: headers, body: bytes)
    }

    /// Why a request got no answer, in a few words. Transport errors carry no request content; our
    /// key id and token are cut out all the same.
    func transportReason(_ error: any Error) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return "no answer within the request timeout (\(timeout.nanoseconds / 1_000_000) ms)"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .alreadyShutdown: return "the store was shut down"
            default: break
            }
        }
        let connectionRefused = { (error: any Error) -> Bool in (error as? IOError)?.errnoCode == ECONNREFUSED }
        if connectionRefused(error)
            || (error as? NIOConnectionError)?.connectionErrors.contains(where: { connectionRefused($0.error) }) == true
        {
            return "connection refused"
        }
        let described = redacted(String(describing: error))
        if described.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the endpoint's certificate is not trusted or does not name this host "
                + "(CERTIFICATE_VERIFY_FAILED); for a private CA give its PEM file (caCertificateFile); "
                + "verification is never turned off"
        }
        return described
    }

    /// The error for a non-2xx answer: S3's code and message (from its XML body; a HEAD has none), and
    /// what to do.
    func failure(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: [UInt8],
        what: String,
        key: String?
    ) -> ObjectStoreError {
        let xml = String(decoding: body, as: UTF8.self)[...]
        let error = S3XML.elements("Error", in: xml).first
        let code = error.flatMap { S3XML.value("Code", in: $0) } ?? Self.defaultCode(status)
        let serverMessage = error.flatMap { S3XML.value("Message", in: $0) }.map(redacted)
        let quoted = "S3 said \(code)" + (serverMessage.map { ": \($0)" } ?? " (HTTP \(status.code))")
        let bucket = configuration.bucket
        let place = "\(location)"
        switch code {
        case "NoSuchKey", "NotFound":
            return ObjectStoreError(.notFound, "\(place): no object \(key ?? "") (\(quoted))", serverCode: code)
        case "NoSuchUpload":
            return ObjectStoreError(
                .notFound,
                "\(place): cannot \(what): the multipart upload is gone (completed or aborted) (\(quoted))",
                serverCode: code
            )
        case "NoSuchBucket":
            return ObjectStoreError(
                .misconfigured,
                "\(place): the bucket \(bucket) does not exist at \(configuration.endpoint): create it, or fix the bucket name "
                    + "(\(quoted))",
                serverCode: code
            )
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
            "InvalidClientTokenId":
            return ObjectStoreError(
                .accessDenied,
                "\(place): cannot \(what): the store refused our credentials (\(quoted)). Check that "
                    + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the credentials file) belong together and to an "
                    + "account that can use bucket \(bucket), and renew AWS_SESSION_TOKEN if the credentials are temporary",
                serverCode: code
            )
        case "AccessDenied", "AllAccessDisabled", "AccountProblem":
            return ObjectStoreError(
                .accessDenied,
                "\(place): cannot \(what): access denied (\(quoted)). Either the credentials are wrong (a HEAD answer "
                    + "cannot say which) or their policy must allow s3:PutObject, "
                    + "s3:GetObject, s3:DeleteObject, s3:DeleteObjectVersion, s3:ListBucket, s3:ListBucketVersions, "
                    + "s3:ListBucketMultipartUploads and s3:AbortMultipartUpload on bucket \(bucket)"
                    + (configuration.serverSideEncryption != nil
                        ? ", and kms:GenerateDataKey/kms:Decrypt on the KMS key" : ""),
                serverCode: code
            )
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "Redirect",
            "TemporaryRedirect":
            let region = error.flatMap { S3XML.value("Region", in: $0) } ?? headers.first(name: "x-amz-bucket-region")
            return ObjectStoreError(
                .misconfigured,
                "\(place): bucket \(bucket) is not served at \(configuration.endpoint) in region \(configuration.region)"
                    + (region.map { "; it is in \($0): set --s3-region \($0) and its endpoint" } ?? "")
                    + " (\(quoted))",
                serverCode: code
            )
        case "InvalidRange":
            return ObjectStoreError(
                .invalidRange,
                "\(place): cannot \(what): the range is outside the object (\(quoted))",
                serverCode: code
            )
        case "EntityTooSmall", "InvalidPart", "InvalidPartOrder", "InvalidArgument", "MalformedXML", "KeyTooLongError",
            "InvalidRequest", "EntityTooLarge", "BadDigest", "InvalidDigest", "PreconditionFailed":
            return ObjectStoreError(.invalidArgument, "\(place): cannot \(what): \(quoted)", serverCode: code)
        case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout":
            return ObjectStoreError(
                .unavailable,
                "\(place): cannot \(what) now: \(quoted); retry later",
                serverCode: code
            )
        case "RequestTimeTooSkewed":
            return ObjectStoreError(
                .misconfigured,
                "\(place): cannot \(what): this machine's clock is off by more than 15 minutes; fix its time (NTP) (\(quoted))",
                serverCode: code
            )
        default:
            let kind: ObjectStoreError.Code =
                status.code >= 500 ? .unavailable : status.code / 100 == 3 ? .misconfigured : .invalidArgument
            return ObjectStoreError(kind, "\(place): cannot \(what): \(quoted)", serverCode: code)
        }
    }

    /// The code a body-less answer (HEAD) stands for.
    static func defaultCode(_ status: HTTPResponseStatus) -> String {
        switch status.code {
        case 404: "NotFound"
        case 403: "AccessDenied"
        case 416: "InvalidRange"
        case 503: "SlowDown"
        case 301, 307: "PermanentRedirect"
        default: "HTTP\(status.code)"
        }
    }

    /// `text` without our access key id or session token in it, should a server ever echo them.
    func redacted(_ text: String) -> String {
        var text = text
        for secret in [signer.credentials.accessKeyID, signer.credentials.sessionToken ?? ""] where secret.count >= 4 {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }
}
