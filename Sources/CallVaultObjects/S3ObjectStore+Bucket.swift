public import Foundation

/// Bucket set-up calls, for operators' set-up commands and tests; the store itself only needs a bucket
/// that exists.
extension S3ObjectStore {
    /// Creates the bucket (in ``Configuration/region``). Creating one we own already is not an error.
    public func createBucket() async throws(ObjectStoreError) {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                    + S3XML.escape(configuration.region) + "</LocationConstraint></CreateBucketConfiguration>").utf8
            )
        }
        do {
            _ = try await send("PUT", key: nil, body: body, what: "create bucket \(configuration.bucket)")
        } catch  where error.serverCode == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Turns versioning on (`Enabled`) or suspends it.
    func setVersioning(_ enabled: Bool) async throws(ObjectStoreError) {
        let xml =
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>"
            + (enabled ? "Enabled" : "Suspended") + "</Status></VersioningConfiguration>"
        _ = try await send(
            "PUT",
            key: nil,
            query: [.init("versioning", "")],
            body: Array(xml.utf8),
            what: "set versioning of bucket \(configuration.bucket)"
        )
    }
}

extension S3ObjectStore {
    /// A URL that lets whoever holds it `method` (GET, PUT, HEAD) the object `key` without credentials,
    /// for `expires` seconds (1 s to 7 days): Signature Version 4 in the query, `UNSIGNED-PAYLOAD`.
    /// The URL carries a signature, not the secret, but it is a bearer token until it expires: hand it
    /// only to whom the object may go, and never log it.
    public func presignedURL(
        _ key: String,
        method: String = "GET",
        expires: Int,
        at date: Date = Date()
    ) throws(ObjectStoreError) -> String {
        try ObjectKey.check(key, in: location)
        guard (1...604_800).contains(expires) else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): a presigned URL lives 1 s to 7 days, not \(expires) s"
            )
        }
        let path = endpoint.path(configuration.prefix + key)
        var request = SigV4Request(
            method: method,
            path: path,
            headers: [.init("Host", endpoint.hostHeader)],
            payloadHash: SigV4Signer.unsignedPayload
        )
        do {
            try signer.presign(&request, expires: expires, at: date)
        } catch {
            throw ObjectStoreError(.unavailable, "\(location): cannot sign a URL for \(key): \(error)")
        }
        return endpoint.url(path: path, query: request.query)
    }
}
