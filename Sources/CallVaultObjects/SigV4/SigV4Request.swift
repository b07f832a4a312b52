/// An HTTP request as Signature Version 4 sees it: method, path, query, headers and the payload's hash.
///
/// The path and the query are given decoded (`/my bucket/a+b`, `prefix=calls/`); the signer encodes
/// them as the canonical request requires, and ``SigV4Signer/encodedQuery(_:)`` and
/// ``SigV4Signer/encodedPath(_:)`` encode them the same way for the URL that is sent.
public struct SigV4Request: Sendable, Equatable {
    /// A header or a query parameter.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `GET`, `PUT`, …
    public var method: String
    /// The decoded path, starting with `/`.
    public var path: String
    /// Decoded query parameters, in any order; a parameter without a value has `""`.
    public var query: [Field]
    /// Headers in the order they are sent; a name may repeat. `Host` must be among them.
    public var headers: [Field]
    /// Lowercase hex SHA-256 of the body, or ``SigV4Signer/unsignedPayload``.
    public var payloadHash: String

    public init(method: String, path: String, query: [Field] = [], headers: [Field] = [], payloadHash: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// The values of every header named `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// Replaces every header named `name` (case-insensitive) by one with `value`.
    public mutating func setHeader(_ name: String, _ value: String) {
        let lowered = name.lowercased()
        headers.removeAll { $0.name.lowercased() == lowered }
        headers.append(Field(name, value))
    }
}

/// What signing produced: the intermediate texts (for tests and for debugging a refusal, since S3
/// quotes its own canonical request in `SignatureDoesNotMatch`), the signature and the header.
public struct SigV4Signature: Sendable, Equatable {
    public let canonicalRequest: String
    public let stringToSign: String
    /// 64 lowercase hex digits.
    public let signature: String
    /// `host;x-amz-date;…`
    public let signedHeaders: String
    /// The `Authorization` header's value (empty for a presigned URL, which carries the signature in its query).
    public let authorization: String
}
