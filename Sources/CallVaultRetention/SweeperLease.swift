public import CallVaultStore
public import Foundation
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sweeps under the sweeper lease, so that of several `callvault sweep` processes on one catalog (one per
/// node, for availability) exactly one acts at a time and the others stand by.
///
/// A round takes the lease (or extends it, when this sweeper holds it already) before anything else;
/// without it, the round only reports who holds it and the caller sleeps until the next round. With it,
/// the sweep runs while a task beside it renews the lease every ``renewInterval``. If a renewal is
/// refused (the lease ran out and another sweeper may have taken it), or no renewal succeeds before the
/// lease runs out by this process's own clock, the sweep is cancelled and stops before its next step
/// (``RetentionError/Code/interrupted``): stopping there is as safe as a kill, because every step is
/// idempotent and the other sweeper's plan, computed from durable state, holds what is left. On
/// PostgreSQL the round also archives finished transcription jobs (`archiveFinishedJobs`), under the
/// same lease, so one node does it.
///
/// A holder that dies stops renewing, and a standby takes over at its next round after ``duration``.
public struct SweeperLease: Sendable {
    /// The lease's name in the `service_leases` table.
    public static let name = "sweeper"

    public let sweeper: Sweeper
    public let leases: any ServiceLeases
    /// This sweeper's name in the lease (``ServiceLeaseHolder/unique(_:)``).
    public let holder: String
    /// How long the lease lasts unrenewed: how long standbys wait after a holder died.
    public var duration: Duration = .seconds(60)
    /// How often the holder renews: a third of the default ``duration``, so two renewals can fail (a
    /// database restart) before it runs out.
    public var renewInterval: Duration = .seconds(20)
    /// Finished transcription jobs at least this old are archived by a round on PostgreSQL.
    public var archiveAge: Duration = .seconds(86_400)
    /// Jobs archived per statement (each batch one short transaction).
    public var archiveBatch = 1000
    let logger: Logger

    /// What a round did.
    public enum Outcome: Sendable, Equatable {
        /// This sweeper held the lease and swept.
        case swept(SweepReport)
        /// Another sweeper holds the lease (nil: it was released or ran out just after this one asked).
        case standingBy(ServiceLease?)
    }

    public init(
        sweeper: Sweeper, leases: any ServiceLeases, holder: String = ServiceLeaseHolder.unique("sweep"),
        logger: Logger
    ) {
        self.sweeper = sweeper
        self.leases = leases
        self.holder = holder
        self.logger = logger
    }

    /// The sweeper on `sweeper.catalog`'s own leases.
    public init(sweeper: Sweeper, holder: String = ServiceLeaseHolder.unique("sweep"), logger: Logger) {
        self.init(sweeper: sweeper, leases: serviceLeases(for: sweeper.catalog), holder: holder, logger: logger)
    }

    /// One round at `now`: take the lease, then sweep (and on PostgreSQL archive finished jobs) while
    /// renewing it; or stand by. The lease is kept afterwards (``keep(for:)`` renews it between rounds;
    /// ``release()`` gives it up).
    public func round(now: Date) async throws(RetentionError) -> Outcome {
        var asked = ContinuousClock.now
        var acquired: Bool
        do { acquired = try await leases.acquire(name: Self.name, holder: holder, for: duration) } catch {
            throw RetentionError(.catalogFailed, "cannot take the sweeper lease: \(error.message)")
        }
        var current = acquired ? nil : try? await leases.current(name: Self.name)
        if let stale = current, Self.isDeadProcessOnThisHost(stale.holder) {
            // Killed on this host (kill -9, OOM): no need to wait out its lease. Released only if it is
            // still that holder's, so of two sweepers doing this one takes it.
            logger.warning("the sweeper lease's holder is a process of this host that is gone; taking over",
                metadata: ["holder": "\(stale.holder)"])
            try? await leases.release(name: Self.name, holder: stale.holder)
            asked = ContinuousClock.now
            acquired = (try? await leases.acquire(name: Self.name, holder: holder, for: duration)) ?? false
            current = acquired ? nil : try? await leases.current(name: Self.name)
        }
        guard acquired else {
            logger.info(
                "another sweeper holds the lease; standing by until the next round",
                metadata: [
                    "holder": "\(current?.holder ?? "none (just released or ran out)")",
                    "until": "\(current.map { ISO8601DateFormatter().string(from: $0.expiresAt) } ?? "-")",
                ])
            return .standingBy(current)
        }
        let sweeper = self.sweeper
        let outcome = await whileRenewing(heldUntil: asked + duration) { () async throws(RetentionError) -> SweepReport in
            var report = try await sweeper.sweep(now: now)
            report.jobsArchived = await archiveFinishedJobs()
            return report
        }
        switch outcome {
        case .finished(let report): return .swept(report)
        case .failed(let error): throw error
        case .lost(let reason, let error):
            throw RetentionError(
                .interrupted,
                "this sweeper lost its lease (\(reason)) and stopped: \(error?.message ?? "after its last step"); "
                    + "the sweeper that holds the lease now finishes the rest")
        }
    }

    /// Keeps the lease this sweeper holds for `interval` (the pause between rounds), renewing it, so the
    /// same sweeper stays the active one and the others stay on standby. Returns early when cancelled or
    /// once the lease is lost (then the next round tries to take it again).
    public func keep(for interval: Duration) async {
        let end = ContinuousClock.now + interval
        while ContinuousClock.now < end && !Task.isCancelled {
            try? await Task.sleep(for: min(renewInterval, end - ContinuousClock.now))
            if Task.isCancelled || ContinuousClock.now >= end { return }
            guard (try? await leases.renew(name: Self.name, holder: holder, for: duration)) == true else {
                logger.debug("the sweeper lease was not renewed between rounds; the next round tries to take it again")
                try? await Task.sleep(for: end - ContinuousClock.now)
                return
            }
        }
    }

    /// Gives the lease up, so a standby takes over at its next round instead of after ``duration``.
    public func release() async {
        do { try await leases.release(name: Self.name, holder: holder) } catch {
            logger.warning(
                "cannot release the sweeper lease; a standby takes over once it runs out",
                metadata: ["reason": "\(error.message)"])
        }
    }

    /// Whether `holder` (``ServiceLeaseHolder/unique(_:)``: `PREFIX@HOST:PID:RANDOM`) names a process of
    /// this host that no longer exists. A reused process id only makes this say "alive" (then the lease is
    /// waited out, as for another host's holder): never a live holder taken for dead.
    static func isDeadProcessOnThisHost(_ holder: String) -> Bool {
        ServiceLeaseHolder.isDeadProcessOnThisHost(holder)
    }

    // MARK: - Renewing while working

    enum Leased<T: Sendable>: Sendable {
        case finished(T)
        case failed(RetentionError)
        /// The lease was lost; the work was cancelled and ended with `error` (nil: it had finished).
        case lost(reason: String, error: RetentionError?)
    }

    private enum Event<T: Sendable>: Sendable {
        case done(Result<T, RetentionError>)
        case lost(String)
        case renewerStopped
    }

    /// Runs `work` while renewing the lease beside it; cancels `work` once the lease is lost.
    func whileRenewing<T: Sendable>(
        heldUntil: ContinuousClock.Instant, _ work: @escaping @Sendable () async throws(RetentionError) -> T
    ) async -> Leased<T> {
        await withTaskGroup(of: Event<T>.self) { group in
            group.addTask {
                do throws(RetentionError) { return .done(.success(try await work())) } catch { return .done(.failure(error)) }
            }
            group.addTask {
                if let reason = await renewUntilLost(heldUntil: heldUntil) { return Event<T>.lost(reason) }
                return Event<T>.renewerStopped
            }
            var result: Result<T, RetentionError>?
            var lost: String?
            for await event in group {
                switch event {
                case .done(let done):
                    result = done
                    group.cancelAll()
                case .lost(let reason):
                    lost = reason
                    logger.error("the sweeper lease was lost; stopping the sweep before its next step", metadata: ["reason": "\(reason)"])
                    group.cancelAll()
                case .renewerStopped: break
                }
            }
            switch (result, lost) {
            case (.success(let value)?, nil): return .finished(value)
            case (.failure(let error)?, nil): return .failed(error)
            case (.success?, let reason?): return .lost(reason: reason, error: nil)
            case (.failure(let error)?, let reason?): return .lost(reason: reason, error: error)
            case (nil, _): return .failed(RetentionError(.interrupted, "the sweep ended without a result"))
            }
        }
    }

    /// Renews every ``renewInterval`` until cancelled (nil) or the lease is lost (why). A renewal that fails
    /// without an answer (the database briefly away) is retried every second until the lease would run out
    /// by this process's clock, counted from before the last successful request was sent (so never later
    /// than the database's own expiry).
    private func renewUntilLost(heldUntil start: ContinuousClock.Instant) async -> String? {
        var heldUntil = start
        var wait = renewInterval
        while !Task.isCancelled {
            do { try await Task.sleep(for: min(wait, max(.zero, heldUntil - ContinuousClock.now))) } catch { return nil }
            let asked = ContinuousClock.now
            do {
                guard try await leases.renew(name: Self.name, holder: holder, for: duration) else {
                    return "its renewal was refused: it ran out and another sweeper may hold it"
                }
                heldUntil = asked + duration
                wait = renewInterval
            } catch {
                if Task.isCancelled { return nil }
                if ContinuousClock.now >= heldUntil {
                    return "it ran out before a renewal succeeded: \(error.message)"
                }
                logger.warning(
                    "cannot renew the sweeper lease; retrying until it runs out", metadata: ["reason": "\(error.message)"])
                wait = min(renewInterval, .seconds(1))
            }
        }
        return nil
    }

    // MARK: - Archiving finished jobs (PostgreSQL)

    /// Moves finished transcription jobs older than ``archiveAge`` out of the live queue, a batch per short
    /// transaction, stopping between batches when cancelled. PostgreSQL only: SQLite keeps jobs in place.
    /// A failure is logged, not thrown: the sweep it follows is done, and the next round archives what is left.
    private func archiveFinishedJobs() async -> Int {
        guard let catalog = sweeper.catalog as? PostgresCatalog else { return 0 }
        var total = 0
        while !Task.isCancelled {
            do {
                let moved = try await catalog.postgresQueue.archiveFinishedJobs(olderThan: archiveAge, limit: archiveBatch)
                total += moved
                if moved < archiveBatch { break }
            } catch {
                logger.error(
                    "cannot archive finished jobs; the next round tries again",
                    metadata: ["reason": "\(error.message)", "archived": "\(total)"])
                break
            }
        }
        return total
    }
}
