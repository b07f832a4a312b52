import CallVaultObjects

/// Multipart uploads begun while their recording is still being written: a long call's file goes to the
/// store a part at a time as it grows, so closing it sends only the rest (``SealedFileUploader``).
///
/// Held in memory by the node writing the file: a crash loses only this bookkeeping, and the next pass
/// aborts the upload it left open for the key and uploads the whole file again.
public actor LiveUploads {
    struct Upload {
        let upload: MultipartUpload
        var parts: [UploadedPart]
        /// Bytes of the spool file sent so far (a whole number of parts).
        var offset: Int
    }

    var uploads: [String: Upload] = [:]

    public init() {}

    /// Object keys with an upload in progress.
    public var keys: [String] { Array(uploads.keys) }

    func upload(for key: String) -> Upload? { uploads[key] }
    func set(_ upload: Upload, for key: String) { uploads[key] = upload }
    func remove(_ key: String) -> Upload? { uploads.removeValue(forKey: key) }
}
