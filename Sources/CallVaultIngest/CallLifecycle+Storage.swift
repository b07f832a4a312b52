import CallVaultArchive
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// A call's side of a full or failing data disk (docs/operations.md, *Disk full and I/O errors*): a
/// segment the disk refuses pauses the track's recording (its audio lost, the call goes on) until a write
/// succeeds again in the same file; each gap is logged, counted, audited and reported by webhook; and the
/// end of a call waits a while for a disk that refuses its last segment or its catalog work.
extension CallLifecycle {
    /// How long the end of a call keeps retrying, every second, a seal or catalog step the disk refused.
    static let endRetrySeconds = 60

    /// The disk refused segments of this call (its recording pauses: the audio is lost, the call goes on), or
    /// took a track's writes again after refusing them (it resumes in the same file; the gap is audited and
    /// reported as `recording.storage_gap`). Logged with ids and errno only.
    func noteStorage(_ recorder: CallRecorder, lostBefore: Int) {
        let lost = recorder.segmentsLost - lostBefore
        if lost > 0 {
            context.metrics.segmentsLost.increment(by: Int64(lost))
            let open = recorder.openStorageGaps
            context.storage?.noteWriteFailure(errno: open.first?.errno ?? EIO, count: lost)
            for gap in open where gap.segments == 1 {
                context.logger.error(
                    "recording paused: the data disk refused its writes; the call goes on and its audio is lost until writes succeed",
                    metadata: [
                        "call": "\(callID ?? "?")", "recording": "\(gap.recordingID)", "track": "\(gap.track.rawValue)",
                        "reason": "\(gap.reason)", "error": "\(StorageMonitor.describe(gap.errno))",
                    ]
                )
            }
        }
        for gap in recorder.takeClosedStorageGaps() {
            context.logger.notice(
                "recording resumed after a storage gap",
                metadata: [
                    "call": "\(callID ?? "?")", "recording": "\(gap.recordingID)", "lostMs": "\(gap.lostMs)",
                    "reason": "\(gap.reason)",
                ]
            )
            auditGap(gap, resumed: true)
        }
    }

    /// Appends the gap's `recording.storage_gap` audit entry (and so its webhook) through the call's queue.
    private func auditGap(_ gap: StorageGap, resumed: Bool) {
        guard let tenantID = tenant?.id else { return }
        Self.auditGap(gap, resumed: resumed, tenantID: tenantID, context: context, queue: queue)
    }

    static func auditGap(
        _ gap: StorageGap,
        resumed: Bool,
        tenantID: String,
        context: IngestContext,
        queue: CallCatalogQueue
    ) {
        let audit = context.catalog.audit
        let logger = context.logger
        queue.enqueue {
            if let message = await Self.appendGap(gap, resumed: resumed, tenantID: tenantID, to: audit) {
                logger.error(
                    "storage gap not audited",
                    metadata: ["recording": "\(gap.recordingID)", "error": "\(message)"]
                )
            }
        }
    }

    /// Appends the gap's audit entry; nil when stored, else the store's error.
    static func appendGap(_ gap: StorageGap, resumed: Bool, tenantID: String, to audit: any AuditStore) async -> String?
    {
        let event = AuditEvent(
            actor: "recorder",
            action: .recordingStorageGap,
            tenantID: tenantID,
            subjectID: gap.recordingID,
            details: [
                "track": gap.track.rawValue, "reason": gap.reason, "lostMs": "\(gap.lostMs)",
                "afterMs": "\(gap.afterMs)",
                "segments": "\(gap.segments)", "resumed": resumed ? "true" : "false",
            ]
        )
        do throws(AuditStoreError) {
            _ = try await audit.append(event)
            return nil
        } catch {
            return error.message
        }
    }

    /// The end of a call off the loop: seals its recordings (the last segments' writes and syncs), then
    /// audits the storage gaps still unreported, completes the recordings (each with its transcription
    /// job), stores evidence still unstored and closes the call.
    ///
    /// A disk that refuses the last segment, or a catalog on it that refuses the transaction (full,
    /// failing), may take it a moment later: while the ``StorageMonitor`` reports trouble each step is tried
    /// again every second for up to ``endRetrySeconds`` (the call's queue waits; nothing else does), then
    /// left to recovery at the next start, as before.
    static func storeEnding(
        _ ending: CallRecorder.EndingWork,
        callID: String,
        tenantID: String?,
        in store: any CatalogStore,
        storage: StorageMonitor?,
        logger: Logger
    ) async {
        let deadline = ContinuousClock.now + .seconds(endRetrySeconds)
        /// Whether a failed step is worth another try in a second: the disk is in trouble, time is left.
        func retry(_ what: String, _ message: String) async -> Bool {
            guard let storage, storage.refusal != nil, ContinuousClock.now < deadline else { return false }
            logger.warning(
                "\(what): the data disk refuses writes; retrying every second",
                metadata: ["call": "\(callID)", "error": "\(message)"]
            )
            try? await Task.sleep(for: .seconds(1))
            return true
        }
        var sealed = ending.seal()
        var completions = sealed.completions
        while let error = sealed.error, error.code == .storageFailed, await retry("recording not sealed", error.message)
        {
            sealed = ending.seal()
            completions += sealed.completions
        }
        if let error = sealed.error {
            logger.error(
                "a recording not sealed cleanly; recovery will close it",
                metadata: ["call": "\(callID)", "error": "\(error.message)"]
            )
        }
        if let tenantID {
            for gap in ending.takeStorageGaps() {
                while let message = await appendGap(gap, resumed: false, tenantID: tenantID, to: store.audit),
                    await retry("storage gap not audited", message)
                {}
            }
        }
        for completion in completions {
            while true {
                do throws(RecorderError) {
                    try await completion.apply(to: store)
                    break
                } catch {
                    if await retry("recording not completed", error.message) { continue }
                    logger.error(
                        "recording not completed; recovery will close it",
                        metadata: ["call": "\(callID)", "error": "\(error.message)"]
                    )
                    break
                }
            }
        }
        while true {
            do throws(CatalogError) {
                if !ending.unstoredEvidence.isEmpty {
                    _ = try await store.recordConsentEvidence(
                        callID: callID,
                        ending.unstoredEvidence,
                        actor: "recorder",
                        at: Date()
                    )
                }
                try await store.endCall(id: callID, closingPause: ending.openPause, at: Date())
                break
            } catch {
                if await retry("call not closed", error.message) { continue }
                logger.error(
                    "call not finished cleanly; recovery will close it",
                    metadata: ["call": "\(callID)", "error": "\(error.message)"]
                )
                break
            }
        }
    }
}
