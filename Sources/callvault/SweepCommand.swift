import ArgumentParser
import CallVaultRetention
import CallVaultStore
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// `callvault sweep`: the retention sweeper — once (cron) or as a service that sweeps at an interval.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Destroy expired keys, delete expired files, mark them shredded (audited).",
        discussion: """
            Keys go first: once a recording's data key is destroyed, every copy of its sealed file is
            unreadable, backups included. A sweep killed at any point is finished by the next one.
            Without --once it runs as a service until SIGINT/SIGTERM, which let the current sweep
            finish and stop before the next one. --metrics-file writes Prometheus counters (recordings
            and transcripts shredded, keys destroyed, files and bytes freed, errors) after each sweep.
            Of several sweep processes on one catalog only the one holding the sweeper lease acts; the
            others print that they stand by and try again at their next round (--dry-run takes no lease).
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @Flag(help: "Sweep once and exit (for cron).")
    var once = false

    @Option(help: ArgumentHelp("Time between sweeps in service mode: 30s, 15m, 1h, 1d.", valueName: "DURATION"))
    var interval = "1h"

    @Option(help: ArgumentHelp("Evaluate expiry at this instant instead of now (ISO 8601, UTC).", valueName: "ISO8601"))
    var now: String?

    @Flag(help: "List what would be destroyed; change nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON document per sweep on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Write Prometheus text metrics here after each sweep (textfile collector).", valueName: "PATH"))
    var metricsFile: String?

    func validate() throws {
        if Self.seconds(interval) == nil {
            throw ValidationError("--interval '\(interval)' is not a duration (use e.g. 30s, 15m, 1h, 1d)")
        }
        if let now, Self.instant(now) == nil {
            throw ValidationError("--now '\(now)' is not an ISO 8601 instant (e.g. 2027-02-20T00:00:00Z)")
        }
    }

    func run() async throws {
        ProcessHardening.disableCoreDumps()
        var logger = Logger(label: "callvault.sweep")
        logger.logLevel = .warning
        let stores = try await RetentionStores.open(dataOptions, logger: logger)
        let sweeper = Sweeper(
            catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, logger: logger,
                objects: stores.objects)
        let lease = SweeperLease(sweeper: sweeper, logger: logger)
        let fixedNow = now.flatMap(Self.instant)
        let metrics = SweepMetrics()
        let (dryRun, metricsFile, json) = (dryRun, metricsFile, json)
        let pass = { @Sendable () async throws in
            let started = ContinuousClock.now
            let outcome = try await Self.sweep(sweeper, lease: lease, at: fixedNow ?? Date(), dryRun: dryRun)
            let elapsed = ContinuousClock.now - started
            if !dryRun, case .swept(let result) = outcome {
                metrics.record(result, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            if let metricsFile { try metrics.write(to: metricsFile) }
            try Self.report(outcome, json: json)
        }
        if once || dryRun {
            // A cron run gives the lease up as it ends, so the next run on any node need not wait it out.
            do { try await pass() } catch {
                if !dryRun { await lease.release() }
                throw error
            }
            if !dryRun { await lease.release() }
            return
        }
        let service = SweepService(
            interval: .seconds(Self.seconds(interval) ?? 3600), pass: pass, pause: { await lease.keep(for: $0) },
            stop: { await lease.release() })
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [.sigquit], logger: logger))
        try await group.run()
    }

    /// A dry run changes nothing, so it takes no lease; a sweep acts only under the sweeper lease.
    private static func sweep(_ sweeper: Sweeper, lease: SweeperLease, at instant: Date, dryRun: Bool) async throws
        -> SweeperLease.Outcome
    {
        do {
            if dryRun { return .swept(try await sweeper.sweep(now: instant, dryRun: true)) }
            return try await lease.round(now: instant)
        } catch {
            throw CLIError(error)
        }
    }

    static func report(_ outcome: SweeperLease.Outcome, json: Bool) throws {
        // Written unbuffered: in service mode each sweep's line must reach a pipe or journal at once.
        var text = ""
        guard case .swept(let report) = outcome else {
            if case .standingBy(let held) = outcome {
                let until = held.map { ISO8601DateFormatter().string(from: $0.expiresAt) }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    encoder.dateEncodingStrategy = .iso8601
                    let standby = StandingBy(holder: held?.holder, leaseExpiresAt: held?.expiresAt)
                    text = String(decoding: try encoder.encode(standby), as: UTF8.self) + "\n"
                } else {
                    text = "sweep: standing by: another sweeper holds the lease"
                        + (held.map { " (\($0.holder), until \(until ?? ""))" } ?? "") + "; nothing done\n"
                }
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            text = String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        } else {
            text = report.summary + "\n"
            for failure in report.failures {
                text += "  not finished: recording \(failure.recordingID): \(failure.reason)\n"
            }
            for failure in report.keyFailures {
                text += "  day key not destroyed: \(failure) (the next sweep tries again)\n"
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// `30s`, `15m`, `1h`, `1d` (or plain seconds) as seconds; nil if malformed or not positive.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value > 0, value <= Int64.max / unit else { return nil }
        return value * unit
    }

    /// An ISO 8601 instant, with or without fractional seconds.
    static func instant(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// `sweep --json`'s document for a round that stood by: who holds the lease and until when (both absent
/// when it was released or ran out just after this sweeper asked).
struct StandingBy: Encodable {
    var standingBy = true
    var holder: String?
    var leaseExpiresAt: Date?
}

/// The sweeper as a service: a sweep, then a pause, until a graceful shutdown, which is honoured
/// between sweeps (a sweep is never cut in the middle by a signal; a kill is handled by the next sweep).
/// The pause keeps the sweeper lease of a sweeper that holds it (so it stays the active one); `stop`
/// releases it, so a standby takes over at its next round.
struct SweepService: Service {
    let interval: Duration
    let pass: @Sendable () async throws -> Void
    let pause: @Sendable (Duration) async -> Void
    let stop: @Sendable () async -> Void

    func run() async throws {
        do {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try await pass()
                // Wakes early on shutdown: the pause is cancelled, the loop condition ends the service.
                let (pause, interval) = (pause, interval)
                await cancelWhenGracefulShutdown { await pause(interval) }
            }
        } catch {
            await stop()
            throw error
        }
        await stop()
    }
}
