import Foundation

extension S3ObjectStore {
    /// How requests name the bucket.
    public enum Addressing: String, Sendable, Equatable {
        /// `https://BUCKET.ENDPOINT/KEY`: AWS's default. A bucket name with dots breaks TLS's wildcard
        /// certificates there; use path style for those.
        case virtualHost = "virtual-host"
        /// `https://ENDPOINT/BUCKET/KEY`: MinIO, Ceph RGW and most self-hosted stores, and loopback tests.
        case path
    }

    /// Server-side encryption requested on every write, for bucket policies that require it. The
    /// sealed files are already encrypted client-side under the tenant's keys; this is a second layer
    /// that the store's own key service holds.
    public enum ServerSideEncryption: Sendable, Equatable {
        /// `x-amz-server-side-encryption: aws:kms`, with the KMS key id or ARN (nil: the bucket's
        /// default KMS key).
        case kms(keyID: String?)
    }

    /// Where the bucket is and how to talk to it.
    public struct Configuration: Sendable, Equatable {
        /// `https://s3.eu-central-1.amazonaws.com`, `https://s3.fr-par.scw.cloud`,
        /// `http://127.0.0.1:9000` (plain http only to a loopback address, unless ``allowInsecureHTTP``).
        public var endpoint: String
        /// The signing region (`eu-central-1`; most S3-compatible stores take `us-east-1`).
        public var region: String
        public var bucket: String
        /// Put in front of every key (`recordings/`), so one bucket can serve several installations;
        /// listings return keys without it. Empty, or ending in `/`.
        public var prefix: String
        public var addressing: Addressing
        public var serverSideEncryption: ServerSideEncryption?
        /// The longest one request may take, from connecting to the last byte of the answer.
        public var requestTimeout: Duration
        /// Whether bodies are hashed into the signature (`x-amz-content-sha256: <SHA-256>`), which lets
        /// the store refuse a body changed on the way; false sends `UNSIGNED-PAYLOAD` (TLS still
        /// protects it) and saves hashing each body.
        public var signsPayload: Bool
        /// Allows `http://` to a host that is not a loopback address: credentials' signatures and the
        /// (encrypted) objects would cross the network without TLS.
        public var allowInsecureHTTP: Bool
        /// A PEM file of the CA that signs the endpoint's certificate (a private CA); nil: the system's
        /// trust roots. Certificates and host names are always verified.
        public var caCertificateFile: String?

        public init(
            endpoint: String,
            region: String,
            bucket: String,
            prefix: String = "",
            addressing: Addressing = .virtualHost,
            serverSideEncryption: ServerSideEncryption? = nil,
            requestTimeout: Duration = .seconds(60),
            signsPayload: Bool = true,
            allowInsecureHTTP: Bool = false,
            caCertificateFile: String? = nil
        ) {
            self.endpoint = endpoint
            self.region = region
            self.bucket = bucket
            self.prefix = prefix
            self.addressing = addressing
            self.serverSideEncryption = serverSideEncryption
            self.requestTimeout = requestTimeout
            self.signsPayload = signsPayload
            self.allowInsecureHTTP = allowInsecureHTTP
            self.caCertificateFile = caCertificateFile
        }
    }

    /// The parts of an endpoint URL a request is built from.
    struct Endpoint: Sendable {
        let scheme: String
        let host: String
        let port: Int?
        let bucket: String
        let addressing: Addressing

        init(_ configuration: Configuration) throws(ObjectStoreError) {
            let endpoint = configuration.endpoint
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host,
                !host.isEmpty, scheme == "https" || scheme == "http"
            else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the S3 endpoint \(endpoint) is not an http(s) URL like https://s3.eu-central-1.amazonaws.com"
                )
            }
            guard url.user == nil, url.password == nil, url.query == nil else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the S3 endpoint must not carry credentials or a query; give only scheme, host and port"
                )
            }
            let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
            guard scheme == "https" || loopback || configuration.allowInsecureHTTP else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the S3 endpoint \(endpoint) is plain http to another machine: use https (plain http is "
                        + "allowed to a loopback address only)"
                )
            }
            try Self.checkBucket(configuration.bucket, addressing: configuration.addressing)
            guard
                configuration.prefix.isEmpty
                    || (configuration.prefix.hasSuffix("/") && !configuration.prefix.hasPrefix("/"))
            else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the key prefix \(configuration.prefix) must end with / and not start with one (calls/)"
                )
            }
            guard !configuration.region.isEmpty,
                configuration.region.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") })
            else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the S3 region \(configuration.region) is not a region name like eu-central-1"
                )
            }
            self.scheme = scheme
            self.host = host
            self.port = url.port
            self.bucket = configuration.bucket
            self.addressing = configuration.addressing
        }

        /// S3's bucket naming rules, in short: 3–63 of `a–z 0–9 . -`, starting and ending alphanumeric.
        static func checkBucket(_ bucket: String, addressing: Addressing) throws(ObjectStoreError) {
            let bytes = Array(bucket.utf8)
            let allowed = bytes.allSatisfy {
                ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".")
                    || $0 == UInt8(ascii: "-")
            }
            let alphanumeric: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
            guard (3...63).contains(bytes.count), allowed, alphanumeric(bytes.first!), alphanumeric(bytes.last!) else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the bucket name \(bucket) is not valid: 3 to 63 lowercase letters, digits, dots and hyphens, "
                        + "starting and ending with a letter or digit"
                )
            }
            if addressing == .virtualHost, bucket.contains(".") {
                throw ObjectStoreError(
                    .misconfigured,
                    "the bucket name \(bucket) has dots, which break TLS certificates in virtual-host addressing: "
                        + "use path-style addressing (--s3-path-style)"
                )
            }
        }

        /// The `Host` header's value.
        var hostHeader: String {
            let name = addressing == .virtualHost ? bucket + "." + host : host
            let bracketed = name.contains(":") && !name.hasPrefix("[") ? "[\(name)]" : name
            return port.map { "\(bracketed):\($0)" } ?? bracketed
        }

        /// The request path of an object key (`""`: the bucket itself), decoded.
        func path(_ fullKey: String) -> String {
            addressing == .path ? "/" + bucket + (fullKey.isEmpty ? "" : "/" + fullKey) : "/" + fullKey
        }

        /// The URL a request goes to.
        func url(path: String, query: [SigV4Request.Field]) -> String {
            let encodedQuery = query.isEmpty ? "" : "?" + SigV4Signer.encodedQuery(query)
            return "\(scheme)://\(hostHeader)\(SigV4Signer.encodedPath(path))\(encodedQuery)"
        }
    }
}
