/// The verdict of `callvault verify` on one recording (or on one file that could not be attributed).
struct VerifyResult: Codable, Equatable {
    /// The statuses of CLI.md; `ok` and `shredded` are fine, the rest make the command exit 1.
    enum Status: String, Codable, Equatable {
        case ok, truncated, tampered, shredded, missing, unavailable
    }

    /// The part files checked, in part order.
    var paths: [String]
    var status: Status
    /// From the header; nil when the header could not be read.
    var tenantID: String? = nil
    var recordingID: String? = nil
    /// Segments that authenticated before the end or the first failure.
    var segmentCount: Int? = nil
    /// What was wrong, naming the segment or file; nil for `ok` and `shredded`.
    var detail: String? = nil

    enum CodingKeys: String, CodingKey {
        case paths, status, detail
        case tenantID = "tenantId"
        case recordingID = "recordingId"
        case segmentCount = "segments"
    }
}
