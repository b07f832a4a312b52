import ArgumentParser

/// The `callvault` executable: one binary, three programs (serve, transcribe, sweep) and their tools.
@main
struct CallVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callvault",
        abstract:
            "Records voice-bot calls with consent, sealed under each tenant's own keys, and shreds them at expiry.",
        version: CallVaultVersion.string,
        subcommands: [
            InitCommand.self, ProbeCommand.self, TenantCommand.self, CallsCommand.self, RecordingsCommand.self,
            VerifyCommand.self, AuditCommand.self, HoldCommand.self, JobsCommand.self, TranscriptsCommand.self, ServeCommand.self, SimulateCommand.self, TranscribeCommand.self, SubjectCommand.self, SweepCommand.self, KeysCommand.self,
            MigrateStoreCommand.self, ObjectsCommand.self, RedactCommand.self, OperatorCommand.self, WebhooksCommand.self,
            RecordSampleCommand.self,
        ]
    )

    /// Parses and runs a command; every error leaves as one `callvault: error: WHAT (HINT)` line with
    /// exit 1 (failed operation) or 2 (bad usage), as CLI.md requires, instead of ArgumentParser's default.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            CLIError.exitReporting(error)
        }
    }
}
