/// Multipart uploads over the S3 API: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
/// AbortMultipartUpload and ListMultipartUploads.
extension S3ObjectStore {
    public func createMultipartUpload(_ key: String) async throws(ObjectStoreError) -> MultipartUpload {
        try ObjectKey.check(key, in: location)
        let response = try await send(
            "POST",
            key: key,
            query: [.init("uploads", "")],
            headers: encryptionHeaders,
            body: [],
            what: "start an upload of \(key)"
        )
        guard let id = S3XML.value("UploadId", in: response.text[...]), !id.isEmpty else {
            throw ObjectStoreError(
                .invalidResponse,
                "\(location): the answer to starting an upload of \(key) has no UploadId"
            )
        }
        return MultipartUpload(key: key, id: id)
    }

    public func uploadPart(_ upload: MultipartUpload, number: Int, bytes: [UInt8]) async throws(ObjectStoreError)
        -> UploadedPart
    {
        try ObjectKey.check(upload.key, in: location)
        guard (1...MultipartUpload.maximumPartCount).contains(number) else {
            throw ObjectStoreError(
                .invalidArgument,
                "\(location): part number \(number) of \(upload.key) is outside 1...\(MultipartUpload.maximumPartCount)"
            )
        }
        let response: Response
        do {
            response = try await send(
                "PUT",
                key: upload.key,
                query: [.init("partNumber", String(number)), .init("uploadId", upload.id)],
                body: bytes,
                what: "send part \(number) of \(upload.key)"
            )
        } catch {
            throw await uploadGoneOr(error, upload)
        }
        guard let etag = response.etag else {
            throw ObjectStoreError(
                .invalidResponse,
                "\(location): the answer to part \(number) of \(upload.key) has no ETag"
            )
        }
        return UploadedPart(number: number, etag: etag)
    }

    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws(ObjectStoreError)
        -> ObjectInfo
    {
        try ObjectKey.check(upload.key, in: location)
        guard !parts.isEmpty else {
            throw ObjectStoreError(.invalidArgument, "\(location): completing \(upload.key) needs at least one part")
        }
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\"\(S3XML.escape(part.etag))\"</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        do {
            _ = try await send(
                "POST",
                key: upload.key,
                query: [.init("uploadId", upload.id)],
                headers: [.init("Content-Type", "application/xml")],
                body: Array(xml.utf8),
                what: "complete the upload of \(upload.key)"
            )
        } catch {
            throw await uploadGoneOr(error, upload)
        }
        return try await head(upload.key)
    }

    /// `error`, or `notFound` when it is a server error (5xx) about an upload the bucket does not list:
    /// some S3-compatible servers (moto 5.2.5 among them) answer 500 instead of 404 `NoSuchUpload`
    /// for an upload that was completed or aborted, and "gone" is the answer a caller can act on.
    func uploadGoneOr(_ error: ObjectStoreError, _ upload: MultipartUpload) async -> ObjectStoreError {
        guard error.code == .unavailable, error.serverCode != nil,
            let open = try? await listMultipartUploads(prefix: upload.key), !open.contains(upload)
        else { return error }
        return ObjectStoreError(
            .notFound,
            "\(location): no multipart upload \(upload.id) of \(upload.key) (completed, aborted or never begun; "
                + "the server answered \(error.serverCode ?? "an error"))",
            serverCode: "NoSuchUpload"
        )
    }

    public func abortMultipartUpload(_ upload: MultipartUpload) async throws(ObjectStoreError) {
        try ObjectKey.check(upload.key, in: location)
        do {
            _ = try await send(
                "DELETE",
                key: upload.key,
                query: [.init("uploadId", upload.id)],
                what: "abort the upload of \(upload.key)"
            )
        } catch  where error.code == .notFound {
            return  // already gone
        }
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUpload] {
        try ObjectKey.checkPrefix(prefix, in: location)
        var uploads: [MultipartUpload] = []
        var marker: (key: String, id: String)?
        repeat {
            var query: [SigV4Request.Field] = [.init("uploads", ""), .init("prefix", configuration.prefix + prefix)]
            if let marker { query += [.init("key-marker", marker.key), .init("upload-id-marker", marker.id)] }
            let response = try await send("GET", key: nil, query: query, what: "list the uploads under \(prefix)")
            let xml = response.text[...]
            for entry in S3XML.elements("Upload", in: xml) {
                guard let key = S3XML.value("Key", in: entry), let id = S3XML.value("UploadId", in: entry) else {
                    continue
                }
                uploads.append(MultipartUpload(key: String(key.dropFirst(configuration.prefix.count)), id: id))
            }
            marker = nil
            if S3XML.value("IsTruncated", in: xml) == "true", let key = S3XML.value("NextKeyMarker", in: xml) {
                marker = (key, S3XML.value("NextUploadIdMarker", in: xml) ?? "")
            }
        } while marker != nil
        return uploads
    }
}
