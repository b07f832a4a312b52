internal import AsyncHTTPClient
import CallVaultCrypto
import Foundation
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOSSL
import Synchronization

/// Objects in a bucket over the S3 API (AWS S3, and S3-compatible stores: Ceph RGW, MinIO, Scaleway,
/// OVH, Hetzner, IONOS), signed with Signature Version 4 (``SigV4Signer``).
///
/// Keys are stored under ``Configuration/prefix``. Bodies are signed by their SHA-256 by default
/// (``Configuration/signsPayload``); writes carry the configured server-side encryption headers.
/// Deleting lists the key's versions and deletes each, so a versioned bucket keeps no copy behind.
/// Errors quote S3's code and message, never the credentials.
///
/// The store owns one `HTTPClient` (keep-alive connections on NIO's shared event loops, TLS verified);
/// call ``shutdown()`` when done with it.
public final class S3ObjectStore: ObjectStore {
    public let configuration: Configuration
    public var location: String { "s3://\(configuration.bucket)/\(configuration.prefix)" }

    let endpoint: Endpoint
    let signer: SigV4Signer
    let client: HTTPClient
    let timeout: TimeAmount
    private let isShutDown = Mutex(false)

    /// A store for `configuration`, signing with `credentials`; no request is sent until the first call.
    /// Throws `misconfigured` for an endpoint, bucket, prefix or region that cannot work, or a CA file
    /// without a PEM certificate.
    public init(_ configuration: Configuration, credentials: AWSCredentials) throws(ObjectStoreError) {
        let endpoint = try Endpoint(configuration)
        let parts = configuration.requestTimeout.components
        let nanoseconds = parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else {
            throw ObjectStoreError(.misconfigured, "the S3 request timeout must be positive")
        }
        var tls = TLSConfiguration.makeClientConfiguration()  // certificate and host name verification on
        if let file = configuration.caCertificateFile {
            guard (try? NIOSSLCertificate.fromPEMFile(file))?.isEmpty == false else {
                throw ObjectStoreError(.misconfigured, "the CA file \(file) holds no readable PEM certificate")
            }
            tls.trustRoots = .file(file)
        }
        let timeout = TimeAmount.nanoseconds(nanoseconds)
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        let clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            // S3 answers a wrong region with a redirect; it is reported (with the region) instead.
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeout, read: timeout),
            connectionPool: pool,
            decompression: .disabled
        )
        self.configuration = configuration
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: configuration.region, service: "s3", profile: .s3)
        self.timeout = timeout
        self.client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: clientConfiguration
        )
    }

    /// Closes the store's connections; calls made afterwards fail `unavailable`. Safe to call twice.
    public func shutdown() async {
        let first = isShutDown.withLock { shut in
            defer { shut = true }
            return !shut
        }
        if first { try? await client.shutdown() }
    }

    deinit {
        if !isShutDown.withLock({ $0 }) { client.shutdown { _ in } }
    }

    var hasShutDown: Bool { isShutDown.withLock { $0 } }

    // MARK: ObjectStore

    public func put(_ key: String, bytes: [UInt8]) async throws(ObjectStoreError) -> ObjectInfo {
        try ObjectKey.check(key, in: location)
        let response = try await send(
            "PUT",
            key: key,
            headers: encryptionHeaders,
            body: bytes,
            what: "store \(key)"
        )
        return ObjectInfo(key: key, size: bytes.count, etag: response.etag ?? "", lastModified: nil)
    }

    public func get(_ key: String, range: ByteRange?) async throws(ObjectStoreError) -> [UInt8] {
        try ObjectKey.check(key, in: location)
        if let range {
            guard range.offset >= 0, range.length >= 1 else {
                try range.check(objectSize: Int.max, key: key, in: location)
                return []
            }
        }
        let headers = range.map { [SigV4Request.Field("Range", "bytes=\($0.offset)-\($0.last)")] } ?? []
        let response: Response
        do {
            response = try await send("GET", key: key, headers: headers, what: "read \(key)")
        } catch  where error.code == .invalidRange {
            // 416: the range starts past the end. Say how big the object is, as the local store does.
            let size = try await head(key).size
            try range?.check(objectSize: size, key: key, in: location)
            throw error
        }
        if let range, response.body.count < range.length {
            // S3 serves a range that runs past the end cut short; the contract is the whole range or an error.
            let size = response.totalSize ?? (range.offset + response.body.count)
            try range.check(objectSize: size, key: key, in: location)
        }
        return response.body
    }

    public func head(_ key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try ObjectKey.check(key, in: location)
        let response = try await send("HEAD", key: key, what: "look up \(key)")
        guard let size = response.headers.first(name: "Content-Length").flatMap({ Int($0) }) else {
            throw ObjectStoreError(.invalidResponse, "\(location): the answer to HEAD \(key) has no Content-Length")
        }
        let modified = response.headers.first(name: "Last-Modified").flatMap(Self.parseHTTPDate)
        return ObjectInfo(key: key, size: size, etag: response.etag ?? "", lastModified: modified)
    }

    public func delete(_ key: String) async throws(ObjectStoreError) {
        try ObjectKey.check(key, in: location)
        let versions = try await listVersions(of: key)
        if versions.isEmpty {
            _ = try await send("DELETE", key: key, what: "delete \(key)")
            return
        }
        for version in versions {
            // An unversioned bucket lists its one copy as version "null".
            let query = version == "null" ? [] : [SigV4Request.Field("versionId", version)]
            _ = try await send("DELETE", key: key, query: query, what: "delete a version of \(key)")
        }
    }

    public func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo] {
        try ObjectKey.checkPrefix(prefix, in: location)
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            var query: [SigV4Request.Field] = [.init("list-type", "2"), .init("prefix", configuration.prefix + prefix)]
            if let token { query.append(.init("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query, what: "list \(prefix)")
            let xml = response.text[...]
            for entry in S3XML.elements("Contents", in: xml) {
                guard let fullKey = S3XML.value("Key", in: entry),
                    let size = S3XML.value("Size", in: entry).flatMap({ Int($0) })
                else { throw ObjectStoreError(.invalidResponse, "\(location): a listing entry lacks its Key or Size") }
                let modified = S3XML.value("LastModified", in: entry).flatMap(Self.parseISODate)
                found.append(
                    ObjectInfo(
                        key: String(fullKey.dropFirst(configuration.prefix.count)),
                        size: size,
                        etag: Self.unquote(S3XML.value("ETag", in: entry) ?? ""),
                        lastModified: modified
                    )
                )
            }
            token = S3XML.value("IsTruncated", in: xml) == "true" ? S3XML.value("NextContinuationToken", in: xml) : nil
        } while token != nil
        return found
    }

    /// The version ids (and delete markers) of exactly `key`, in every page of `?versions`.
    func listVersions(of key: String) async throws(ObjectStoreError) -> [String] {
        let fullKey = configuration.prefix + key
        var versions: [String] = []
        var marker: (key: String, version: String)?
        repeat {
            var query: [SigV4Request.Field] = [.init("versions", ""), .init("prefix", fullKey)]
            if let marker { query += [.init("key-marker", marker.key), .init("version-id-marker", marker.version)] }
            let response = try await send("GET", key: nil, query: query, what: "list the versions of \(key)")
            let xml = response.text[...]
            for entry in S3XML.elements("Version", in: xml) + S3XML.elements("DeleteMarker", in: xml)
            where S3XML.value("Key", in: entry) == fullKey {
                if let id = S3XML.value("VersionId", in: entry) { versions.append(id) }
            }
            marker = nil
            if S3XML.value("IsTruncated", in: xml) == "true", let next = S3XML.value("NextKeyMarker", in: xml) {
                marker = (next, S3XML.value("NextVersionIdMarker", in: xml) ?? "")
            }
        } while marker != nil
        return versions
    }

    /// The headers that ask for server-side encryption on a write.
    var encryptionHeaders: [SigV4Request.Field] {
        switch configuration.serverSideEncryption {
        case .none: return []
        case .kms(let keyID):
            var headers = [SigV4Request.Field("x-amz-server-side-encryption", "aws:kms")]
            if let keyID { headers.append(.init("x-amz-server-side-encryption-aws-kms-key-id", keyID)) }
            return headers
        }
    }

    static func unquote(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    /// `2026-05-01T12:00:00.000Z`.
    static func parseISODate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `Fri, 01 May 2026 12:00:00 GMT`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
