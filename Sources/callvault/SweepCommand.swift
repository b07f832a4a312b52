import ArgumentParser
import CallVaultRetention
import CallVaultStore
import Dispatch
import Foundation
import Logging

/// `callvault sweep`: the retention sweeper — once (cron) or as a service that sweeps at an interval.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Destroy expired keys, delete expired files, mark them shredded (audited).",
        discussion: """
            Keys go first: once a recording's data key is destroyed, every copy of its sealed file is
            unreadable, backups included. A sweep killed at any point is finished by the next one.
            Without --once it runs until SIGINT/SIGTERM, stopping between sweeps.
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
        if once || dryRun {
            try report(try sweep(sweeper, at: fixedNow ?? Date()))
            return
        }
        let stop = StopSignal()
        let pause = Duration.seconds(Self.seconds(interval) ?? 3600)
        while !stop.isRaised {
            try report(try sweep(sweeper, at: fixedNow ?? Date()))
            try? await stop.wait(for: pause)
        }
    }

    private func sweep(_ sweeper: Sweeper, at instant: Date) throws -> SweepReport {
        do {
            return try sweeper.sweep(now: instant, dryRun: dryRun)
        } catch {
            throw CLIError(error)
        }
    }

    private func report(_ report: SweepReport) throws {
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
