public import CallVaultModel
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
        let transcripts: [TranscriptRecord]
        do {
            transcripts = try catalog.expiredTranscripts(asOf: now)
        } catch {
            throw RetentionError(.catalogFailed, "cannot list expired transcripts: \(error.message)")
        }
        let dayKeys: [DestroyedKey]
        do {
            dayKeys = try keyStore.dayKeysToDestroy(expiringBefore: today)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot list expired day keys: \(error.message)")
        }
        return SweepPlan(
            now: now, firstKeptDay: today, recordings: recordings, transcripts: transcripts, dayKeys: dayKeys)
    }

    /// Runs one sweep at `now`; with `dryRun`, reports the plan and changes nothing.
    ///
    /// A recording that cannot be finished (its file cannot be deleted, its key store row is held while
    /// the catalog says it is not) is reported in ``SweepReport/failures`` and retried next time; the
    /// others go on. Catalog or key-store outages abort the sweep with an error.
    public func sweep(now: Date, dryRun: Bool = false) throws(RetentionError) -> SweepReport {
        let plan = try plan(now: now)
        var report = SweepReport(now: now, dryRun: dryRun)
        let items = plan.recordings.map(SealedItem.init) + plan.transcripts.map(SealedItem.init)
        if dryRun {
            report.recordingsShredded = plan.recordings.map(\.id)
            report.transcriptsShredded = plan.transcripts.map(\.id)
            report.dayKeysDestroyed = plan.dayKeys.count
            report.dataKeysDestroyed = plan.dayKeys.reduce(0) { $0 + $1.ownerIDs.count }
            for item in items {
                for file in shredder.files(of: item) {
                    report.filesDeleted += 1
                    report.bytesFreed += file.bytes
                }
            }
            return report
        }
        if !plan.isEmpty { try recordIntent(plan) }
        try destroyDayKeys(plan, into: &report)
        var start = 0
        while start < items.count {
            // A batch holds one kind: recordings come first, then transcripts.
            var end = min(start + batchSize, items.count)
            if let split = items[start..<end].firstIndex(where: { $0.kind != items[start].kind }) { end = split }
            let outcome = try shredder.shred(items[start..<end], at: now)
            switch items[start].kind {
            case .recording: report.recordingsShredded += outcome.shredded
            case .transcript: report.transcriptsShredded += outcome.shredded
            }
            report.dataKeysDestroyed += outcome.dataKeysDestroyed
            report.filesDeleted += outcome.filesDeleted
            report.bytesFreed += outcome.bytesFreed
            report.failures += outcome.failures
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
                    "transcripts": String(plan.transcripts.count),
                ],
                at: plan.now
            )
        } catch {
            throw RetentionError(.catalogFailed, "cannot record the sweep's intent: \(error.message)")
        }
    }

    /// Destroys the day keys of passed days in one key-store transaction, then audits each. Day keys the
    /// key provider fails to destroy are reported in `keyFailures` and left for the next sweep; the rest
    /// of the sweep goes on (their recordings are still shredded one data key at a time).
    private func destroyDayKeys(_ plan: SweepPlan, into report: inout SweepReport) throws(RetentionError) {
        let sweep: KeyStore.DayKeySweep
        do {
            let retired = try keyStore.finishRetiredProviderKeys()
            report.replacedDayKeysDestroyed = retired.destroyed
            report.keyFailures += retired.pending.map {
                "\($0): a day key replaced by an erasure; the key provider has not destroyed it yet"
            }
            sweep = try keyStore.sweepDayKeys(expiringBefore: plan.firstKeptDay)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot destroy expired day keys: \(error.message)")
        }
        report.keyFailures += sweep.failures
        for failure in sweep.failures {
            logger.error("expired day key not destroyed", metadata: ["reason": "\(failure)"])
        }
        for key in sweep.destroyed {
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

    var shredder: Shredder {
        Shredder(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, logger: logger, actor: "sweeper",
            reason: .expired)
    }

    /// The sealed files of a recording (all its parts), as the sweeper would delete them.
    public func files(of recording: RecordingRecord) -> [(path: String, bytes: Int64)] {
        shredder.files(of: SealedItem(recording))
    }
}
