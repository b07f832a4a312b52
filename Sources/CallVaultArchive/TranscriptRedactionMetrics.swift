import CallVaultRedaction
import Metrics

/// Counts of what redaction replaced in sealed transcripts, per kind: `callvault_redactions_total{kind}`
/// (and `callvault_transcripts_redacted_total`). Counts only: no value, call or tenant is a label.
enum TranscriptRedactionMetrics {
    static func record(_ redactions: TranscriptRedactions) {
        Counter(label: "callvault_transcripts_redacted_total").increment()
        for (kind, count) in redactions.counts {
            Counter(label: "callvault_redactions_total", dimensions: [("kind", kind.rawValue)]).increment(by: count)
        }
    }
}
