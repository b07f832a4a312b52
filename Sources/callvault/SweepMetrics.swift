import CallVaultRetention
import Foundation
import Prometheus

/// The sweeper's counters, kept in a Prometheus registry and written as text after every sweep to
/// `--metrics-file` (node_exporter's textfile collector reads it; a cron job needs no server for it).
struct SweepMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let sweeps: Prometheus.Counter
    private let recordings: Prometheus.Counter
    private let transcripts: Prometheus.Counter
    private let dayKeys: Prometheus.Counter
    private let dataKeys: Prometheus.Counter
    private let files: Prometheus.Counter
    private let bytes: Prometheus.Counter
    private let failures: Prometheus.Counter
    private let lastSweep: Prometheus.Gauge
    private let lastDuration: Prometheus.Gauge

    init() {
        let registry = self.registry
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "callvault", subsystem: "sweep", metricName: name, unitName: "total", helpText: help))
        }
        func gauge(_ name: String, _ unit: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "callvault", subsystem: "sweep", metricName: name, unitName: unit, helpText: help))
        }
        sweeps = counter("runs", "Sweeps finished.")
        recordings = counter("recordings_shredded", "Recordings shredded (keys destroyed, files deleted).")
        transcripts = counter("transcripts_shredded", "Transcripts shredded.")
        dayKeys = counter("day_keys_destroyed", "Day keys destroyed.")
        dataKeys = counter("data_keys_destroyed", "Data keys destroyed.")
        files = counter("files_deleted", "Sealed files deleted.")
        bytes = counter("bytes_freed", "Bytes of sealed files deleted.")
        failures = counter("errors", "Items a sweep could not finish (the next sweep retries them).")
        lastSweep = gauge("last_success_timestamp", "seconds", "When the last sweep without errors ended (Unix time).")
        lastDuration = gauge("last_duration", "seconds", "How long the last sweep took.")
    }

    /// Counts one finished (not dry-run) sweep.
    func record(_ report: SweepReport, seconds: Double) {
        sweeps.increment()
        recordings.increment(by: Int64(report.recordingsShredded.count))
        transcripts.increment(by: Int64(report.transcriptsShredded.count))
        dayKeys.increment(by: Int64(report.dayKeysDestroyed))
        dataKeys.increment(by: Int64(report.dataKeysDestroyed))
        files.increment(by: Int64(report.filesDeleted))
        bytes.increment(by: report.bytesFreed)
        failures.increment(by: Int64(report.failures.count))
        lastDuration.set(seconds)
        if report.failures.isEmpty { lastSweep.set(Date().timeIntervalSince1970) }
    }

    /// Writes the registry's text to `path` atomically (a temporary file beside it, then a rename), so
    /// a collector never reads half a file.
    func write(to path: String) throws {
        let temporary = path + ".tmp"
        try Data(registry.emitToString().utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw CLIError.failure("cannot write the metrics file \(path)", hint: "check that its directory is writable")
        }
    }
}
