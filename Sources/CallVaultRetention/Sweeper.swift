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
        if !plan.dayKeys.isEmpty { try recordIntent(plan) }
        try destroyDayKeys(plan, into: &report)
        for recording in plan.recordings {
            do throws(RetentionError) {
                try shred(recording, now: now, into: &report)
            } catch {
                report.failures.append(.init(recordingID: recording.id, reason: error.message))
                logger.error(
                    "sweep could not shred a recording; the next sweep retries it",
                    metadata: ["recording": "\(recording.id)", "reason": "\(error.message)"]
                )
            }
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

    /// Key, then files, then the catalog row: for one expired recording.
    private func shred(_ recording: RecordingRecord, now: Date, into report: inout SweepReport) throws(RetentionError) {
        do {
            if try keyStore.destroyDataKey(ownerID: recording.id, tenantID: recording.tenantId, reason: .expired) {
                report.dataKeysDestroyed += 1
            }
        } catch where error.code == .unknownDataKey {
            // Never got a key (the recorder failed before sealing anything): nothing to destroy.
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot destroy the data key of recording \(recording.id): \(error.message)")
        }
        for file in files(of: recording) {
            if unlink(file.path) != 0 && errno != ENOENT {
                let reason = String(cString: strerror(errno))
                throw RetentionError(.fileDeletionFailed, "cannot delete \(file.path): \(reason)")
            }
            report.filesDeleted += 1
            report.bytesFreed += file.bytes
        }
        do {
            try catalog.markRecordingShredded(id: recording.id, at: now)
        } catch {
            throw RetentionError(.catalogFailed, "cannot mark recording \(recording.id) shredded: \(error.message)")
        }
        report.recordingsShredded.append(recording.id)
    }

    /// The sealed files of a recording: its first part at `path` and later parts beside it
    /// (`<id>.cvr`, `<id>.part2.cvr`, ...: every file whose name starts with the first part's stem and a dot).
    public func files(of recording: RecordingRecord) -> [(path: String, bytes: Int64)] {
        let first = recording.path.hasPrefix("/") ? recording.path : dataDirectory.path + "/" + recording.path
        let directory = (first as NSString).deletingLastPathComponent
        let name = (first as NSString).lastPathComponent
        let stem = (name as NSString).deletingPathExtension
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().compactMap { candidate in
            guard candidate == name || candidate.hasPrefix(stem + ".") else { return nil }
            let path = directory + "/" + candidate
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return (path, Int64(info.st_size))
        }
    }
}
