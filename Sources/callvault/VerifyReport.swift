/// The JSON document `callvault verify --json` prints.
struct VerifyReport: Codable, Equatable {
    var recordings: [VerifyResult]
    /// True if every recording is `ok` or `shredded` (exit status 0).
    var allFine: Bool

    init(recordings: [VerifyResult]) {
        self.recordings = recordings
        self.allFine = recordings.allSatisfy { $0.status == .ok || $0.status == .shredded }
    }
}
