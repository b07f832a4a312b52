import ArgumentParser

/// The `callvault` executable: one binary, three programs (serve, transcribe, sweep) and their tools.
@main
struct CallVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callvault",
        abstract:
            "Records voice-bot calls with consent, sealed under each tenant's own keys, and shreds them at expiry.",
        version: CallVaultVersion.string,
        subcommands: [TenantCommand.self, CallsCommand.self, RecordingsCommand.self, AuditCommand.self]
    )
}
