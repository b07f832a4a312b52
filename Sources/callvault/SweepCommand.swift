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
        let stores = try RetentionStores(dataOptions, logger: logger)
        let sweeper = Sweeper(
            catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, logger: logger)
        let fixedNow = now.flatMap(Self.instant)
        let metrics = SweepMetrics()
        let (dryRun, metricsFile, json) = (dryRun, metricsFile, json)
        let pass = { @Sendable () throws in
            let started = ContinuousClock.now
            let result = try Self.sweep(sweeper, at: fixedNow ?? Date(), dryRun: dryRun)
            let elapsed = ContinuousClock.now - started
            if !dryRun {
                metrics.record(result, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            if let metricsFile { try metrics.write(to: metricsFile) }
            try Self.report(result, json: json)
        }
        if once || dryRun {
            try pass()
            return
        }
        let service = SweepService(interval: .seconds(Self.seconds(interval) ?? 3600), pass: pass)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [.sigquit], logger: logger))
        try await group.run()
    }

    private static func sweep(_ sweeper: Sweeper, at instant: Date, dryRun: Bool) throws -> SweepReport {
        do {
            return try sweeper.sweep(now: instant, dryRun: dryRun)
        } catch {
            throw CLIError(error)
        }
    }

    static func report(_ report: SweepReport, json: Bool) throws {
        // Written unbuffered: in service mode each sweep's line must reach a pipe or journal at once.
        var text = ""
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

/// The sweeper as a service: a sweep, then a pause, until a graceful shutdown, which is honoured
/// between sweeps (a sweep is never cut in the middle by a signal; a kill is handled by the next sweep).
struct SweepService: Service {
    let interval: Duration
    let pass: @Sendable () throws -> Void

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try pass()
            // Wakes early on shutdown: the sleep is cancelled, the loop condition ends the service.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
