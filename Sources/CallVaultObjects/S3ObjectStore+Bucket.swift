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
