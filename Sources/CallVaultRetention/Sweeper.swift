public import CallVaultStore
public import Foundation
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Shreds what has expired: destroys keys first, then deletes files, then marks the catalog.
///
/// The order is the safety argument. Once a recording's data key is gone, every copy of its sealed
/// file (backups included) is unreadable, so the key goes first; a sweep killed after that step
/// leaves at worst an unreadable file and an unmarked row, which the next sweep finds in the same
/// plan (a plan is computed from durable state only) and finishes. Every step is idempotent.
///
/// A recording expires at its own instant (`expiresAt`, at most 90 days after it began); its data key
/// is destroyed then, one by one, without waiting for the whole day key (destroyed once its UTC day
/// has passed) — so no recording stays readable past its expiry by up to a day.
public struct Sweeper: Sendable {
    public let catalog: Catalog
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    let logger: Logger

    /// Recordings shredded per key-store and catalog transaction (10,000: 1,000,000 in ~47 s here, each
    /// transaction holding the write lock ~0.5 s; see scripts/sweep-scale).
    public var batchSize = 10_000

    public init(catalog: Catalog, keyStore: KeyStore, dataDirectory: DataDirectory, logger: Logger) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// What a sweep at `now` would destroy. Reads only.
    public func plan(now: Date) throws(RetentionError) -> SweepPlan {
        let today = CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970.rounded(.down)))
        let recordings: [RecordingRecord]
        do {
            recordings = try catalog.expiredRecordings(asOf: now)
        } catch {
            throw RetentionError(.catalogFailed, "cannot list expired recordings: \(error.message)")
        }
        let dayKeys: [DestroyedKey]
        do {
            dayKeys = try keyStore.dayKeysToDestroy(expiringBefore: today)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot list expired day keys: \(error.message)")
        }
        return SweepPlan(now: now, firstKeptDay: today, recordings: recordings, dayKeys: dayKeys)
    }

    /// Runs one sweep at `now`; with `dryRun`, reports the plan and changes nothing.
    ///
    /// A recording that cannot be finished (its file cannot be deleted, its key store row is held while
    /// the catalog says it is not) is reported in ``SweepReport/failures`` and retried next time; the
    /// others go on. Catalog or key-store outages abort the sweep with an error.
    public func sweep(now: Date, dryRun: Bool = false) throws(RetentionError) -> SweepReport {
        let plan = try plan(now: now)
        var report = SweepReport(now: now, dryRun: dryRun)
        if dryRun {
            report.recordingsShredded = plan.recordings.map(\.id)
            report.dayKeysDestroyed = plan.dayKeys.count
            report.dataKeysDestroyed = plan.dayKeys.reduce(0) { $0 + $1.ownerIDs.count }
            for recording in plan.recordings {
                for file in files(of: recording) {
                    report.filesDeleted += 1
                    report.bytesFreed += file.bytes
                }
            }
            return report
        }
        if !plan.dayKeys.isEmpty || !plan.recordings.isEmpty { try recordIntent(plan) }
        try destroyDayKeys(plan, into: &report)
        var start = 0
        while start < plan.recordings.count {
            let end = min(start + batchSize, plan.recordings.count)
            try shred(plan.recordings[start..<end], now: now, into: &report)
            start = end
        }
        logger.info("\(report.summary)")
        return report
    }

    /// Writes what this sweep is about to destroy to the audit log before touching a key.
    private func recordIntent(_ plan: SweepPlan) throws(RetentionError) {
        do {
            try catalog.auditLog.append(
                actor: "sweeper",
                action: "sweep.started",
                details: [
                    "now": ISO8601DateFormatter().string(from: plan.now),
                    "dayKeys": plan.dayKeys.map(\.keyID).joined(separator: ","),
                    "recordings": String(plan.recordings.count),
                ],
                at: plan.now
            )
        } catch {
            throw RetentionError(.catalogFailed, "cannot record the sweep's intent: \(error.message)")
        }
    }

    /// Destroys the day keys of passed days in one key-store transaction, then audits each.
    private func destroyDayKeys(_ plan: SweepPlan, into report: inout SweepReport) throws(RetentionError) {
        let destroyed: [DestroyedKey]
        do {
            destroyed = try keyStore.destroyDayKeys(expiringBefore: plan.firstKeptDay)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot destroy expired day keys: \(error.message)")
        }
        for key in destroyed {
            report.dayKeysDestroyed += 1
            report.dataKeysDestroyed += key.ownerIDs.count
            do {
                try catalog.auditLog.append(
                    actor: "sweeper",
                    action: .keyDestroyed,
                    tenantID: key.tenantID,
                    subjectID: key.keyID,
                    details: ["day": key.day.description, "kind": key.kind.rawValue, "dataKeys": String(key.ownerIDs.count)],
                    at: plan.now
                )
            } catch {
                throw RetentionError(.catalogFailed, "day key \(key.keyID) was destroyed but not audited: \(error.message)")
            }
        }
    }

    /// Keys, then files, then catalog rows: for one batch of expired recordings, in one key-store
    /// transaction and one catalog transaction. A recording whose key is held (the catalog and the key
    /// store disagree after a crash mid-hold) or whose file cannot be deleted is reported and skipped.
    private func shred(_ batch: ArraySlice<RecordingRecord>, now: Date, into report: inout SweepReport)
        throws(RetentionError)
    {
        let keys: (destroyed: Int, held: [String])
        do {
            keys = try keyStore.destroyDataKeys(
                owners: batch.map { (ownerID: $0.id, tenantID: $0.tenantId) }, reason: .expired)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot destroy expired data keys: \(error.message)")
        }
        report.dataKeysDestroyed += keys.destroyed
        let held = Set(keys.held)
        var shredded: [String] = []
        shredded.reserveCapacity(batch.count)
        for recording in batch {
            if held.contains(recording.id) {
                fail(recording.id, "its data key is under legal hold in the key store; run `callvault hold clear` or `hold set` again", &report)
                continue
            }
            do throws(RetentionError) {
                for file in files(of: recording) {
                    if unlink(file.path) != 0 && errno != ENOENT {
                        let reason = String(cString: strerror(errno))
                        throw RetentionError(.fileDeletionFailed, "cannot delete \(file.path): \(reason)")
                    }
                    report.filesDeleted += 1
                    report.bytesFreed += file.bytes
                }
                shredded.append(recording.id)
            } catch {
                fail(recording.id, error.message, &report)
            }
        }
        do {
            try catalog.markRecordingsShredded(ids: shredded, at: now)
        } catch {
            throw RetentionError(.catalogFailed, "cannot mark \(shredded.count) recording(s) shredded: \(error.message)")
        }
        report.recordingsShredded.append(contentsOf: shredded)
    }

    private func fail(_ recordingID: String, _ reason: String, _ report: inout SweepReport) {
        report.failures.append(.init(recordingID: recordingID, reason: reason))
        logger.error(
            "sweep could not shred a recording; the next sweep retries it",
            metadata: ["recording": "\(recordingID)", "reason": "\(reason)"]
        )
    }

    /// The sealed files of a recording: its first part at `path` (`<id>.cvr`) and the parts a crash
    /// started after it beside it (`<id>.part1.cvr`, `<id>.part2.cvr`, ...). Probed by name, so the cost
    /// does not grow with the number of files in the directory.
    public func files(of recording: RecordingRecord) -> [(path: String, bytes: Int64)] {
        let first = recording.path.hasPrefix("/") ? recording.path : dataDirectory.path + "/" + recording.path
        let stem = first.hasSuffix(".cvr") ? String(first.dropLast(4)) : first
        var result: [(path: String, bytes: Int64)] = []
        var part = 0
        while true {
            let path = part == 0 ? first : "\(stem).part\(part).cvr"
            var info = stat()
            guard lstat(path, &info) == 0 else {
                // A missing part 0 (already deleted by an interrupted sweep) may still have later parts.
                if part == 0 { part = 1; continue }
                break
            }
            if (info.st_mode & S_IFMT) == S_IFREG { result.append((path, Int64(info.st_size))) }
            part += 1
        }
        return result
    }
}
