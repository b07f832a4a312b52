import CallVaultArchive
import CallVaultModel

/// What the timeline picture shows of one recording's audio: its levels and segments, or why not.
///
/// Levels are computed for every role that may open the call page, on each view, through
/// ``RecordingExporter/levels(recordingID:tenantID:bucketMs:bucketCount:)`` (in memory only, never
/// cached, not audited as a decryption: they carry no words). A restricted recording is not measured
/// at all (no override is taken for a picture) and a shredded one cannot be.
enum TrackLevels {
    case measured(RecordingLevels)
    case restricted
    case shredded
    /// Measuring failed (a file missing or not verifying): the reason, with ids only.
    case unavailable(String)

    /// What the picture and its table say instead of levels.
    var why: String? {
        switch self {
        case .measured: nil
        case .restricted: "restricted (GDPR Art. 18): levels not computed"
        case .shredded: "shredded: keys destroyed, levels cannot be computed"
        case .unavailable(let reason): "levels unavailable: \(reason)"
        }
    }

    /// Each recording's levels, keyed by recording id, in buckets of `bucketMs` from the call's start.
    static func load(
        _ recordings: [RecordingRecord], call: CallRecord, bucketMs: Int64, bucketCount: Int, console: Console,
        operatorName: String
    ) async -> [String: TrackLevels] {
        var levels: [String: TrackLevels] = [:]
        for recording in recordings {
            if recording.state == .shredded {
                levels[recording.id] = .shredded
                continue
            }
            if recording.restricted {
                levels[recording.id] = .restricted
                continue
            }
            do {
                levels[recording.id] = .measured(
                    try await console.exporter.levels(
                        recordingID: recording.id, tenantID: call.tenantId, bucketMs: bucketMs, bucketCount: bucketCount))
            } catch {
                switch error.code {
                case .shredded: levels[recording.id] = .shredded
                case .restricted: levels[recording.id] = .restricted
                default:
                    console.logger.warning(
                        "console levels failed",
                        metadata: ["call": "\(call.id)", "recording": "\(recording.id)", "code": "\(error.code)", "operator": "\(operatorName)"])
                    levels[recording.id] = .unavailable(error.code.rawValue)
                }
            }
        }
        return levels
    }
}
