import CallVaultArchive
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Uploads this node's closed sealed files to the object store while `serve` runs: a pass at start (what
/// a crash left in the spool: the reconciler) and every ``interval`` after, each pass a
/// ``SealedFileUploader/uploadPending(limit:)``. Never on an event loop; one pass at a time, so the
/// uploads' concurrency is bounded by the pass (one file at a time, a part at a time).
///
/// It also anchors the audit log's chain head in the store (``AuditAnchors``) every ``anchorInterval``,
/// so `audit verify --against-objects` can tell a rewritten or cut audit history.
struct UploadService: Service {
    let uploader: SealedFileUploader
    let interval: Duration
    let anchors: AuditAnchors
    let anchorInterval: Duration
    /// This serve node: its recordings still being written are uploaded a part at a time as they grow.
    let node: String
    let logger: Logger

    let uploaded = Counter(label: "callvault_objects_uploaded_total")
    let uploadedBytes = Counter(label: "callvault_objects_uploaded_bytes_total")
    let failures = Counter(label: "callvault_objects_upload_failures_total")
    let backlog = Gauge(label: "callvault_spool_backlog_files")
    let liveParts = Counter(label: "callvault_objects_live_parts_total")
    let backlogBytes = Gauge(label: "callvault_spool_backlog_bytes")
    let backlogAge = Gauge(label: "callvault_spool_backlog_oldest_seconds")
    let passLatency = Metrics.Timer(label: "callvault_objects_upload_pass_seconds")

    func run() async throws {
        var anchored: AuditAnchors.Anchor?
        var lastAnchoring: ContinuousClock.Instant?
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await pass()
                if lastAnchoring.map({ ContinuousClock.now - $0 >= anchorInterval }) ?? true {
                    lastAnchoring = .now
                    do { anchored = try await anchors.anchor(after: anchored) } catch {
                        logger.warning(
                            "the audit chain head could not be anchored in the object store; retried later",
                            metadata: ["reason": "\(error)"])
                    }
                }
                try? await Task.sleep(for: interval)
            }
        } onGracefulShutdown: {}
    }

    /// One pass; failures are counted and logged by the uploader, and retried by the next pass.
    func pass() async {
        let started = ContinuousClock.now
        do {
            let parts = await uploader.advanceLiveUploads(node: node)
            if parts > 0 { liveParts.increment(by: parts) }
            let report = try await uploader.uploadPending()
            uploaded.increment(by: report.uploaded.count)
            uploadedBytes.increment(by: Int(report.bytes))
            failures.increment(by: report.failures.count)
            backlog.record(report.failures.count)
            backlogBytes.record(report.backlogBytes)
            backlogAge.record(report.oldestBacklogSeconds)
            if !report.uploaded.isEmpty {
                logger.info(
                    "sealed files uploaded", metadata: ["count": "\(report.uploaded.count)", "bytes": "\(report.bytes)"])
            }
        } catch {
            failures.increment()
            logger.warning("the catalog could not list the files awaiting upload", metadata: ["reason": "\(error.message)"])
        }
        let elapsed = ContinuousClock.now - started
        passLatency.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
