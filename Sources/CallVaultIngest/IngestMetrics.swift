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
    /// Missing frames filled with silence or loss concealment.
    public let framesFilled = Counter(label: "callvault_frames_filled_total")
    /// Plaintext bytes sealed into recordings.
    public let bytesSealed = Counter(label: "callvault_bytes_sealed_total")
    /// Segments sealed and appended to recordings.
    public let segmentsSealed = Counter(label: "callvault_segments_sealed_total")
    /// Group flush passes that synced at least one recording.
    public let flushes = Counter(label: "callvault_flushes_total")
    /// How long one group flush (fdatasync of every open recording) took.
    public let flushLatency = Timer(label: "callvault_flush_latency_seconds", preferredDisplayUnit: .seconds)

    public init() {}

    /// Counts a refused stream or message by kind (`twilio.invalidBase64`, `audiosocket.unknownKind`, ...).
    public func protocolError(_ kind: String) {
        Counter(label: "callvault_protocol_errors_total", dimensions: [("kind", kind)]).increment()
    }
}
