public import CallVaultModel
public import CallVaultStore
public import CallVaultObjects
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
///
/// It works on any ``CatalogStore`` (the SQLite catalog or PostgreSQL); the key store stays the data
/// directory's. Of several sweepers on one catalog, only the one holding the sweeper lease may act
/// (``SweeperLease``): a sweeper by itself does not look at the lease. A sweep whose task is cancelled
/// (its lease was lost) stops between steps with ``RetentionError/Code/interrupted``, which is as safe
/// as a kill: the next sweep finishes it.
public struct Sweeper: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    let logger: Logger

    /// Recordings shredded per key-store and catalog transaction (10,000: 1,000,000 in ~47 s here, each
    /// transaction holding the write lock ~0.5 s; see scripts/sweep-scale).
    public var batchSize = 10_000

    /// The object store the directory's sealed files are uploaded to; nil: all in the directory.
    public let objects: (any ObjectStore)?

    public init(
        catalog: any CatalogStore, keyStore: KeyStore, dataDirectory: DataDirectory, logger: Logger,
        objects: (any ObjectStore)? = nil
    ) {
        self.objects = objects
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// What a sweep at `now` would destroy. Reads only.
    public func plan(now: Date) async throws(RetentionError) -> SweepPlan {
        let today = CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970.rounded(.down)))
        let recordings: [RecordingRecord]
        do {
            recordings = try await catalog.expiredRecordings(asOf: now)
        } catch {
            throw RetentionError(.catalogFailed, "cannot list expired recordings: \(error.message)")
        }
        let transcripts: [TranscriptRecord]
        do {
            transcripts = try await catalog.expiredTranscripts(asOf: now)
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
    public func sweep(now: Date, dryRun: Bool = false) async throws(RetentionError) -> SweepReport {
        let plan = try await plan(now: now)
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
        try Self.checkNotCancelled(report)
        if !plan.isEmpty { try await recordIntent(plan) }
        try await destroyDayKeys(plan, into: &report)
        var start = 0
        while start < items.count {
            try Self.checkNotCancelled(report)
            // A batch holds one kind: recordings come first, then transcripts.
            var end = min(start + batchSize, items.count)
            if let split = items[start..<end].firstIndex(where: { $0.kind != items[start].kind }) { end = split }
            let outcome = try await shredder.shred(items[start..<end], at: now)
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

    /// Stops a sweep whose task was cancelled (its lease lost, or SIGQUIT) before its next step. Between
    /// steps is where a kill would leave it too, so the next sweep's plan holds exactly what is left.
    private static func checkNotCancelled(_ report: SweepReport) throws(RetentionError) {
        guard Task.isCancelled else { return }
        throw RetentionError(
            .interrupted,
            "the sweep was stopped before it finished (its task was cancelled) after shredding "
                + "\(report.recordingsShredded.count) recording(s) and \(report.transcriptsShredded.count) transcript(s); "
                + "the next sweep finishes the rest")
    }

    /// Writes what this sweep is about to destroy to the audit log before touching a key.
    private func recordIntent(_ plan: SweepPlan) async throws(RetentionError) {
        do {
            _ = try await catalog.audit.append(
                AuditEvent(
                    actor: "sweeper",
                    action: "sweep.started",
                    details: [
                        "now": ISO8601DateFormatter().string(from: plan.now),
                        "dayKeys": plan.dayKeys.map(\.keyID).joined(separator: ","),
                        "recordings": String(plan.recordings.count),
                        "transcripts": String(plan.transcripts.count),
                    ],
                    at: plan.now
                ))
        } catch {
            throw RetentionError(.catalogFailed, "cannot record the sweep's intent: \(error.message)")
        }
    }

    /// Destroys the day keys of passed days in one key-store transaction, then audits each. Day keys the
    /// key provider fails to destroy are reported in `keyFailures` and left for the next sweep; the rest
    /// of the sweep goes on (their recordings are still shredded one data key at a time).
    private func destroyDayKeys(_ plan: SweepPlan, into report: inout SweepReport) async throws(RetentionError) {
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
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "sweeper",
                        action: .keyDestroyed,
                        tenantID: key.tenantID,
                        subjectID: key.keyID,
                        details: [
                            "day": key.day.description, "kind": key.kind.rawValue,
                            "dataKeys": String(key.ownerIDs.count),
                        ],
                        at: plan.now
                    ))
            } catch {
                throw RetentionError(.catalogFailed, "day key \(key.keyID) was destroyed but not audited: \(error.message)")
            }
        }
    }

    var shredder: Shredder {
        Shredder(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, objects: objects, logger: logger, actor: "sweeper",
            reason: .expired)
    }

    /// The sealed files of a recording (all its parts), as the sweeper would delete them.
    public func files(of recording: RecordingRecord) -> [(path: String, bytes: Int64)] {
        shredder.files(of: SealedItem(recording))
    }
}
