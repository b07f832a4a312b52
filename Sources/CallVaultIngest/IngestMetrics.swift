public import Metrics

/// The ingest socket's metrics (swift-metrics; `callvault serve` exports them as Prometheus text at
/// `/metrics`). Handles are created once; the per-frame path only increments existing counters.
public struct IngestMetrics: Sendable {
    /// Calls streaming now.
    public let activeCalls = Meter(label: "callvault_active_calls")
    /// Audio frames received (20 ms each, per track).
    public let framesIn = Counter(label: "callvault_frames_in_total")
    /// Frames the consent gate did not let through (before consent, after revoke or deny, paused).
    public let framesDroppedByGate = Counter(label: "callvault_frames_dropped_total", dimensions: [("reason", "gate")])
    /// Segments the data disk refused (full or failing): their audio is lost, the calls go on
    /// (`docs/operations.md`, *Disk full and I/O errors*).
    public let segmentsLost = Counter(label: "callvault_segments_lost_total", dimensions: [("reason", "storage")])
    /// Consent events the gate refused (nothing to revoke, disclosure required first, ...).
    public let consentEventsRefused = Counter(label: "callvault_consent_events_refused_total")
    /// Consent events whose evidence could not be stored: not applied (or, when they record nothing,
    /// applied with their evidence retried); nothing is recorded until a later event is stored.
    public let consentEvidenceFailures = Counter(label: "callvault_consent_evidence_failures_total")
    /// Times a stream stopped reading because it held 200 frames (4 s of audio) while the
    /// catalog answered: the sender was slowed (nothing refused, nothing lost). Rising steadily means the
    /// catalog is slower than the calls' audio.
    public let readsPaused = Counter(label: "callvault_stream_reads_paused_total")
    /// Missing frames filled with silence or loss concealment.
    public let framesFilled = Counter(label: "callvault_frames_filled_total")
    /// Plaintext bytes sealed into recordings.
    public let bytesSealed = Counter(label: "callvault_bytes_sealed_total")
    /// Segments sealed and appended to recordings.
    public let segmentsSealed = Counter(label: "callvault_segments_sealed_total")
    /// Group flush passes that synced at least one recording.
    public let flushes = Counter(label: "callvault_flushes_total")
    /// How long one group flush pass (every open recording made durable) took.
    public let flushLatency = Timer(label: "callvault_flush_latency_seconds", preferredDisplayUnit: .seconds)
    /// From a media message reaching its session to the segment it completed being sealed and appended
    /// (recorded once per sealed segment). The earlier frames of a segment wait for it by design (the
    /// segment length bounds what a crash loses); this is the server's own delay.
    public let sealLatency = Timer(label: "callvault_seal_latency_seconds", preferredDisplayUnit: .seconds)
    /// How late a probe task ran on an event loop (``EventLoopLagProbe``): about how long a frame that
    /// arrives on a busy loop waits before the loop reads it. Added to ``sealLatency`` it bounds the time
    /// from a frame's arrival to its seal.
    public let eventLoopLag = Timer(label: "callvault_event_loop_lag_seconds", preferredDisplayUnit: .seconds)

    /// Histogram buckets for the latencies above: fine enough to tell 1 ms from 50 ms.
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(15), .milliseconds(20), .milliseconds(30),
        .milliseconds(40), .milliseconds(45), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]
    /// The labels of the timers that use ``latencyBuckets``.
    public static let latencyTimerLabels = ["callvault_seal_latency_seconds", "callvault_event_loop_lag_seconds"]

    public init() {}

    /// Counts a refused stream or message by kind (`twilio.invalidBase64`, `audiosocket.unknownKind`, ...).
    public func protocolError(_ kind: String) {
        Counter(label: "callvault_protocol_errors_total", dimensions: [("kind", kind)]).increment()
    }

    /// Counts a call refused at its start (or when its recording would open) for a server-side reason:
    /// `dayKeyNotReady` (the tenant's key provider failed, or its day key is still being fetched).
    public func callRefused(_ reason: String) {
        Counter(label: "callvault_calls_refused_total", dimensions: [("reason", reason)]).increment()
    }
}
